"""Fixtures of the integration tier beyond the shared stack's (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.bench.private import PrivateStack


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[PrivateStack]:
    """A private embedded stack for one test module (fault tests kill and restart its servers,
    which the shared stack other tests use must never see)."""
    s = PrivateStack(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "vox")
    s.up()
    yield s
    s.down()


from tests.integration.api_world import api_world  # noqa: E402, F401  (session-scoped)
