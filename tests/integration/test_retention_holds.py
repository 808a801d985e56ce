"""Holds by subject and by tenant, named retention classes, and the checker erasure uses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from schemas.envelope import Provider
from schemas.system_events import SessionStarted, SubjectIdentifiers
from services.platform.settings import Settings
from services.recorder import Recorder
from services.retention import actions
from services.retention.holds import HoldError, Holds, Target
from services.retention.job import dry_run
from services.retention.policy import PolicyError, set_policy
from tests.integration.ledger_helpers import (
    PHONE,
    TenantSealer,
    b64,
    publish_small_session,
    raw_object_versions,
)
from tests.integration.retention_helpers import context
from tests.integration.retention_registry import registry

pytestmark = pytest.mark.integration


async def _legal_holds(ctx: Any, bucket: str, tenant: str, sid: str) -> list[str]:
    """Legal-hold status of every version of the raw audio objects holding a part of ``sid``."""
    versions = await raw_object_versions(ctx.engine, ctx.s3, bucket, tenant, sid)
    assert versions, f"{sid} has no raw audio object"

    def status() -> list[str]:
        return [ctx.s3.get_object_legal_hold(Bucket=bucket, Key=k, VersionId=v)
                ["LegalHold"]["Status"] for k, v in versions]

    return await asyncio.to_thread(status)


async def _publish_class(settings: Settings, tenant: str, session: str, retention_class: str
                         ) -> int:
    rec = await Recorder.connect(settings, tenant)
    started = SessionStarted(provider="openai-realtime", retention_class=retention_class,
                             subject=SubjectIdentifiers(email="Someone@Example.org"))
    async with rec.session(session, Provider.OPENAI_REALTIME, started=started) as s:
        await s.client({"type": "input_audio_buffer.append", "audio": b64(960)})
        count = s.next_seq + 1
    await rec.close()
    return count


async def test_subject_and_tenant_holds_cover_later_sessions(settings: Settings,
                                                             tenant: str) -> None:
    aged = settings.model_copy(update={"clock_offset_days": -400})
    sealer = TenantSealer(settings, tenant, backfill_days=500)
    await sealer.start()
    try:
        n = await publish_small_session(aged, tenant, "s-before", frames=2)
        n += await _publish_class(aged, tenant, "s-other", "standard")  # another subject
        await sealer.wait_for(n)
        async with context(settings) as ctx:
            await set_policy(ctx.engine, settings, ctx.keys, tenant=tenant,
                             data_class="raw_events", days=30, actor="test", now=ctx.clock.now())
            with pytest.raises(HoldError):
                await actions.place(ctx, tenant, Target("subject", subject_kind="phone_e164",
                                                        subject_value=" "), "M-1", "r", "test")
            # The phone as a reviewer types it: normalised before the HMAC.
            hold = await actions.place(ctx, tenant, Target(
                "subject", subject_kind="phone_e164", subject_value="+1 (415) 555-0123"),
                "M-subject", "litigation hold", "test")
            assert hold["sessions"] == 1 and hold["subject_index"] is not None
            assert PHONE not in str(hold)
            # A session of the same caller recorded after the hold is covered too.
            await sealer.wait_for(n + 1)  # the journal entry
            later = await publish_small_session(aged, tenant, "s-after", frames=2)
            await sealer.wait_for(n + 1 + later)
            checker = Holds()
            assert await checker.held(ctx, tenant, ("s-before", "s-after", "s-other")) == {
                "s-before": "M-subject", "s-after": "M-subject"}
            preview = (await dry_run(ctx, tenant, registry(), checker,
                                     ctx.clock.now())).as_json()
            status = {s["session_id"]: s["status"] for s in preview["sessions"]}
            assert status == {"s-before": "held", "s-after": "held", "s-other": "due"}
            # The S3 mirror catches up with the new session on the next sync.
            await actions.sync_locks(ctx, tenant)
            for sid in ("s-before", "s-after"):
                assert set(await _legal_holds(ctx, settings.bucket_ledger, tenant, sid)) == {"ON"}

            everything = await actions.place(ctx, tenant, Target("tenant"), "M-all",
                                             "regulator inquiry", "test")
            await actions.release(ctx, hold["hold_id"], "settled", "test")
            assert set((await checker.held(ctx, tenant, ("s-before", "s-other"))).values()) == \
                {"M-all"}
            with pytest.raises(HoldError, match="already released"):
                await actions.release(ctx, hold["hold_id"], "again", "test")
            released = await actions.release(ctx, everything["hold_id"], "closed", "test")
            assert released["objects_unlocked"] > 0
            assert await checker.held(ctx, tenant, ("s-before", "s-after", "s-other")) == {}
            for sid in ("s-before", "s-after", "s-other"):
                assert set(await _legal_holds(ctx, settings.bucket_ledger, tenant, sid)) == {"OFF"}
            async with ctx.engine.connect() as conn:
                types = [str(r[0]) for r in await conn.execute(text(
                    "SELECT type FROM ledger_entries WHERE tenant_id = :t AND "
                    "session_id = '_journal' ORDER BY position"), {"t": tenant})]
            assert types == ["retention.policy_changed", "hold.placed", "hold.placed",
                             "hold.released", "hold.released"]
    finally:
        await sealer.stop()
        await sealer.close()


async def test_named_retention_class_overrides_the_tenant_policy(settings: Settings,
                                                                 tenant: str) -> None:
    aged = settings.model_copy(update={"clock_offset_days": -60})
    sealer = TenantSealer(settings, tenant, backfill_days=500)
    await sealer.start()
    try:
        n = await _publish_class(aged, tenant, "s-short", "short-lived")
        n += await _publish_class(aged, tenant, "s-standard", "standard")
        await sealer.wait_for(n)
        async with context(settings) as ctx:
            await set_policy(ctx.engine, settings, ctx.keys, tenant=tenant,
                             data_class="raw_events", days=3650, actor="test", now=ctx.clock.now())
            await set_policy(ctx.engine, settings, ctx.keys, tenant=tenant,
                             data_class="raw_events", days=30, actor="test", now=ctx.clock.now(),
                             retention_class="short-lived")
            with pytest.raises(PolicyError, match="NATS buffer"):
                await set_policy(ctx.engine, settings, ctx.keys, tenant=tenant,
                                 data_class="raw_events", days=2, actor="test",
                                 now=ctx.clock.now())
            report = (await dry_run(ctx, tenant, registry(), Holds(), ctx.clock.now())).as_json()
            assert [(s["session_id"], s["class"], s["retention_class"])
                    for s in report["sessions"]] == [("s-short", "raw_events", "short-lived")]
    finally:
        await sealer.stop()
        await sealer.close()


async def test_the_daily_job_disposes_due_sessions_of_every_tenant(settings: Settings,
                                                                   tenant: str) -> None:
    from services.retention.daily import run_once

    aged = settings.model_copy(update={"clock_offset_days": -45})
    sealer = TenantSealer(settings, tenant, backfill_days=500)
    await sealer.start()
    try:
        n = await publish_small_session(aged, tenant, "s-daily", frames=2)
        await sealer.wait_for(n)
        async with context(settings) as ctx:
            await set_policy(ctx.engine, settings, ctx.keys, tenant=tenant,
                             data_class="raw_events", days=30, actor="test", now=ctx.clock.now())
        assert await run_once(settings, registry()) >= 1
        async with context(settings) as ctx, ctx.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT session_id, data_class FROM retention_disposals WHERE tenant_id = :t"),
                {"t": tenant})).all()
        assert [(str(a), str(b)) for a, b in rows] == [("s-daily", "raw_events")]
    finally:
        await sealer.stop()
        await sealer.close()


async def test_a_hold_placed_during_a_disposal_batch_waits_for_it(settings: Settings,
                                                                  tenant: str) -> None:
    from services.retention.holds import guard
    from tests.integration.consumers import wait_for

    async with context(settings) as ctx:
        async with guard(ctx, tenant):  # a batch: holds checked, forgetters running
            placing = asyncio.create_task(actions.place(
                ctx, tenant, Target("session", session_id="s-late"), "M-late", "late", "test"))

            async def waiting_on_the_guard() -> bool:
                async with ctx.engine.connect() as conn:
                    return bool((await conn.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory' "
                        "AND query ILIKE '%pg_advisory_xact_lock%'"))).scalar_one())
            await wait_for(waiting_on_the_guard)
            assert not placing.done()
            assert await Holds().held(ctx, tenant, ("s-late",)) == {}
        hold = await placing
        assert await Holds().held(ctx, tenant, ("s-late",)) == {"s-late": "M-late"}
        await actions.release(ctx, hold["hold_id"], "test over", "test")
