"""The sealer on either engine: asyncpg (``voxledger run``'s: entry rows and the audio index by
``copy_records_to_table`` inside the batch's one SQLAlchemy transaction) and psycopg (the
journal's: binary ``COPY``). The ledger is the same: complete, gapless, verifiable, append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.platform.settings import Settings
from services.simulator import simulate
from tests.integration.ledger_helpers import TenantSealer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("driver", ["asyncpg", "psycopg"])
async def test_sessions_sealed_verify_and_stay_append_only(settings: Settings, tenant: str,
                                                           driver: str) -> None:
    published, sessions = 0, 0
    for seed, provider in enumerate(("openai", "gemini", "twilio")):
        for result in await simulate(settings, provider, sessions=1, seed=seed + 1,
                                     tenant=tenant):
            published += result.events
            sessions += 1
    sealer = TenantSealer(settings, tenant, driver=driver)
    assert sealer.seal_engine.dialect.driver == driver
    await sealer.start()
    try:
        await sealer.wait_for(published)
    finally:
        await sealer.stop()
    try:
        report = await sealer.verify()
        assert report.ok, [str(e) for e in report.errors]
        assert (report.entries, report.sessions) == (published, sessions)
        async with sealer.engine.connect() as conn:
            positions = (await conn.execute(text(
                "SELECT count(DISTINCT position), min(position), max(position) FROM "
                "ledger_entries WHERE tenant_id = :t"), {"t": tenant})).one()
            refs = (await conn.execute(text(
                "SELECT count(*) FROM ledger_audio_refs WHERE tenant_id = :t"),
                {"t": tenant})).scalar_one()
        assert tuple(positions) == (published, 0, published - 1)
        assert refs > 0
        # The append-only trigger holds whichever driver wrote the rows.
        async with sealer.seal_engine.connect() as conn:
            with pytest.raises(DBAPIError):
                await conn.execute(text("UPDATE ledger_entries SET seq = seq WHERE tenant_id = :t"),
                                   {"t": tenant})
    finally:
        await sealer.close()
