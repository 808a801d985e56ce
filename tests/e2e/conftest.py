"""Fixtures of the e2e tier: the reviewer console's world (built once per test run)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from services.platform.settings import Settings
from tests.e2e.console_stack import World, build_world, serving


@pytest.fixture(scope="session")
def world(settings: Settings) -> Iterator[World]:
    """Two tenants, one simulated OpenAI call each through the whole pipeline, tokens of the
    first (reviewer, data, auditor), and the API with its console on a free port."""
    tenant, other = "t-" + secrets.token_hex(5), "t-" + secrets.token_hex(5)
    call, other_call, tokens = build_world(settings, tenant, other)
    with serving(settings) as url:
        yield World(url, tenant, other, call, other_call, tokens)
