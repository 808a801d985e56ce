"""The audio recorder never opens a recording for the tenant's journal (a reserved session of
control events, e.g. the API's access log), only for calls."""

from __future__ import annotations

import pytest

from services.audio import store
from services.ledger.journal import append
from services.platform.db import make_async_engine
from services.platform.keys import LocalKeyProvider
from services.platform.settings import Settings

pytestmark = pytest.mark.integration


async def test_open_sessions_leaves_the_journal_out(settings: Settings, tenant: str) -> None:
    engine = make_async_engine(settings, pool_size=1)
    try:
        keys = LocalKeyProvider.from_file(settings.keyring_path)
        await append(engine, settings, keys, tenant, "access.original", {"reason": "test"})
        async with engine.connect() as conn:
            listed = await store.open_sessions(conn, tenant)
        assert [r.session_id for r in listed] == []
    finally:
        await engine.dispose()
