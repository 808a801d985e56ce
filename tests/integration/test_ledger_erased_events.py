"""Late events of an erased session: the sealer discards them and carries on (it must neither
re-key the session, nor dead-letter the content in clear, nor stall the partition)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.ledger.forget import destroy_session_key
from services.platform.settings import Settings
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


async def test_events_after_erasure_are_discarded_and_sealing_goes_on(
        settings: Settings, tenant: str, session_id: str) -> None:
    sealer = TenantSealer(settings, tenant)
    try:
        first = await publish_small_session(settings, tenant, session_id, frames=2)
        await sealer.start()
        await sealer.wait_for(first)
        async with sealer.engine.begin() as conn:
            assert await destroy_session_key(conn, tenant, session_id, "test")
            assert not await destroy_session_key(conn, tenant, session_id, "test")
        await publish_small_session(settings, tenant, session_id, frames=2)  # late events
        later = await publish_small_session(settings, tenant, session_id + "-b", frames=2)
        await sealer.wait_for(first + later)
        async with sealer.engine.connect() as conn:
            per_session: dict[str, int] = dict((await conn.execute(text(
                "SELECT session_id, count(*) FROM ledger_entries WHERE tenant_id = :t "
                "GROUP BY session_id"), {"t": tenant})).all())
            wrapped = (await conn.execute(text(
                "SELECT wrapped_dek FROM ledger_sessions WHERE tenant_id = :t AND "
                "session_id = :s"), {"t": tenant, "s": session_id})).scalar()
            letters = (await conn.execute(text(
                "SELECT count(*) FROM dead_letters WHERE starts_with(subject, :p)"),
                {"p": f"{settings.subject_prefix}.{tenant}."})).scalar()
        assert per_session == {session_id: first, session_id + "-b": later}
        assert wrapped is None and letters == 0
        await sealer.stop()
        report = await sealer.verify()
        assert report.ok and report.erased_sessions == 1
    finally:
        await sealer.close()
