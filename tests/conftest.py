"""Shared fixtures. Integration and e2e tests use the stack `voxledger up` started (make test)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.platform.settings import Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    try:
        s = load_settings()
    except SettingsError as exc:
        pytest.fail(f"configuration invalid: {exc}")
    if not (s.database_url and s.nats_url and s.s3_endpoint):
        pytest.fail("the stack is not configured: run `make test` (it runs `voxledger up`) first")
    return s


@pytest.fixture
def tenant() -> str:
    return "t-" + secrets.token_hex(5)


@pytest.fixture
def session_id() -> str:
    return "s-" + secrets.token_hex(8)


@pytest.fixture
def sync_engine(settings: Settings) -> Iterator[object]:
    from services.platform.db import make_engine

    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def owner_settings(settings: Settings) -> Settings:
    """The stack's settings as the database owner (migrations, tamper simulations); every other
    test connects as the pipeline's writer role, like the processes."""
    from services.platform.roles import owner_settings as as_owner

    return as_owner(settings)
