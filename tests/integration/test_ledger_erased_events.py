"""Late events of an erased session: the sealer discards them and carries on (it must neither
re-key the session, nor dead-letter the content in clear, nor stall the partition)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.ledger.forget import destroy_session_key
from services.platform.settings import Settings
from tests.integration.consumers import wait_for
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


async def test_projections_never_recreate_an_erased_session(
        settings: Settings, tenant: str, session_id: str) -> None:
    """The transcripts projection starts after the key is destroyed, with the session's every
    event still in the ledger: it keeps nothing of it (before the fix it rebuilt the session),
    and another session of the tenant goes through."""
    from tests.integration.test_transcripts_consumer import running_transcripts

    sealer = TenantSealer(settings, tenant)
    try:
        first = await publish_small_session(settings, tenant, session_id, frames=2)
        await sealer.start()
        await sealer.wait_for(first)
        async with sealer.engine.begin() as conn:
            assert await destroy_session_key(conn, tenant, session_id, "test")
        other = session_id + "-b"
        later = await publish_small_session(settings, tenant, other, frames=2)
        await sealer.wait_for(first + later)
        await sealer.stop()

        async def frames() -> dict[str, int]:
            async with sealer.engine.connect() as conn:
                return dict((await conn.execute(text(
                    "SELECT session_id, frames FROM transcript_sessions WHERE tenant_id = :t"),
                    {"t": tenant})).all())

        async def caught_up() -> bool:
            return (await frames()).get(other) == later

        async with running_transcripts(settings, tenant):
            await wait_for(caught_up)
        assert await frames() == {other: later}
    finally:
        await sealer.close()


async def test_key_destruction_waits_for_a_projection_batch_in_flight(
        settings: Settings, tenant: str, session_id: str) -> None:
    """A batch holds its sessions' ledger rows FOR KEY SHARE until it commits; destroying the key
    waits for it (so the forgetters that run after the destruction see what it wrote)."""
    sealer = TenantSealer(settings, tenant)
    try:
        first = await publish_small_session(settings, tenant, session_id, frames=1)
        await sealer.start()
        await sealer.wait_for(first)
        await sealer.stop()
        async with sealer.engine.connect() as batch, sealer.engine.connect() as eraser:
            await batch.execute(text(
                "SELECT 1 FROM ledger_sessions WHERE tenant_id = :t AND session_id = :s "
                "FOR KEY SHARE"), {"t": tenant, "s": session_id})
            await eraser.execute(text("SET lock_timeout = '300ms'"))
            with pytest.raises(DBAPIError, match="lock timeout"):
                await destroy_session_key(eraser, tenant, session_id, "test")
            await eraser.rollback()
            await batch.commit()
            await eraser.execute(text("SET lock_timeout = '10s'"))
            assert await destroy_session_key(eraser, tenant, session_id, "test")
            await eraser.commit()
    finally:
        await sealer.close()
