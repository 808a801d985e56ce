"""A disposition run killed with SIGKILL half-way: the next run completes it, nothing is disposed
twice and nothing is missed. The kill lands at the worst moment: the forgetters of the last
batch have run but its items are not yet recorded (the test holds a conflicting uncommitted
insert, so the run waits exactly there)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from services.ledger.journal_ids import JOURNAL_SESSION
from services.ledger.payloads import open_payload
from services.ledger.sealing import payload_aad
from services.platform.settings import Settings
from services.retention.holds import Holds
from services.retention.job import run
from services.retention.policy import set_policy
from tests.conftest import REPO
from tests.integration.consumers import wait_for
from tests.integration.ledger_helpers import TenantSealer, publish_small_session
from tests.integration.retention_helpers import context
from tests.integration.retention_registry import registry

pytestmark = [pytest.mark.integration, pytest.mark.faults]
SESSIONS = 6


def _scalar(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


async def test_kill_9_mid_run_is_completed_by_the_next(settings: Settings, tenant: str,
                                                       sync_engine: Engine) -> None:
    engine: Engine = sync_engine  # type: ignore[assignment]
    aged = settings.model_copy(update={"clock_offset_days": -400})
    sids = sorted(f"s-crash-{i}" for i in range(SESSIONS))
    published = 0
    for sid in sids:
        published += await publish_small_session(aged, tenant, sid, frames=4)
    sealer = TenantSealer(settings, tenant, backfill_days=500)
    await sealer.start()
    try:
        await sealer.wait_for(published)
        async with context(settings) as ctx:
            for dc, days in (("raw_events", 30), ("recordings", 90)):
                await set_policy(ctx.engine, settings, ctx.keys, tenant=tenant, data_class=dc,
                                 days=days, actor="test", now=ctx.clock.now())
        expected = {(s, dc) for s in sids for dc in ("raw_events", "recordings")}
        last = (sids[-1], "recordings")  # the run's last item (classes in order, then ids)

        blocker = engine.connect()
        blocker.begin()
        blocker.execute(text(
            "INSERT INTO retention_disposals (tenant_id, session_id, data_class, run_id, "
            "disposed_at) VALUES (:t, :s, :c, 'blocker', :now)"),
            {"t": tenant, "s": last[0], "c": last[1], "now": datetime.now(UTC)})
        child = subprocess.Popen([sys.executable, "-m", "tests.integration.retention_child",
                                  tenant], cwd=REPO, env=os.environ.copy())
        try:
            async def stuck_on_the_last_batch() -> bool:
                assert child.poll() is None, "the run ended before it reached the last batch"
                return _scalar(engine, """
                    SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                       AND query ILIKE 'INSERT INTO retention_disposals%'""") > 0
            await wait_for(stuck_on_the_last_batch, timeout=300)
            done = _scalar(engine, "SELECT count(*) FROM retention_run_items i JOIN "
                           "retention_runs r USING (run_id) WHERE r.tenant_id = :t "
                           "AND i.status = 'done'", t=tenant)
            assert done == SESSIONS  # raw_events recorded; recordings disposed, not recorded
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
            blocker.rollback()
            blocker.close()

        crashed = _scalar(engine, "SELECT count(*) FROM retention_runs WHERE tenant_id = :t "
                          "AND status = 'running'", t=tenant)
        assert crashed == 1
        async with context(settings) as ctx:
            report = (await run(ctx, tenant, registry(), Holds())).as_json()
            assert len(report["run_ids"]) == 1  # the crashed run, completed; nothing new due
            assert {(s["session_id"], s["class"]) for s in report["sessions"]
                    if s["status"] == "disposed"} == expected
            again = (await run(ctx, tenant, registry(), Holds())).as_json()
            assert again["sessions"] == [] and again["run_ids"] == []

            async with ctx.engine.connect() as conn:
                rows = (await conn.execute(text(
                    "SELECT session_id, data_class FROM retention_disposals WHERE tenant_id = :t"),
                    {"t": tenant})).all()
                assert sorted((str(a), str(b)) for a, b in rows) == sorted(expected)
                journal = (await conn.execute(text(
                    "SELECT e.event_id, e.payload_ct, s.wrapped_dek FROM ledger_entries e "
                    "JOIN ledger_sessions s USING (tenant_id, session_id) WHERE e.tenant_id = :t "
                    "AND e.session_id = :j AND e.type = 'retention.disposed'"),
                    {"t": tenant, "j": JOURNAL_SESSION})).all()
                shredded = (await conn.execute(text(
                    "SELECT count(*) FROM ledger_sessions WHERE tenant_id = :t "
                    "AND wrapped_dek IS NULL"), {"t": tenant})).scalar_one()
            assert shredded == SESSIONS
            assert len(journal) == 1  # journaled once, by the run that finished it
            event_id, ct, wrapped = journal[0]
            body = json.loads(open_payload(ctx.keys.unwrap_dek(tenant, wrapped, JOURNAL_SESSION), ct,
                                      payload_aad(tenant, JOURNAL_SESSION, str(event_id))))
            assert body["classes"] == {"raw_events": {"disposed": 6, "held": 0, "failed": 0},
                                       "recordings": {"disposed": 6, "held": 0, "failed": 0}}
            assert sorted(body["disposed"]["raw_events"]) == sids
            assert sorted(body["disposed"]["recordings"]) == sids
            # Every session disposed: no batch object keeps a live part, so none is left.
            left = await asyncio.to_thread(ctx.s3.list_object_versions,
                                           Bucket=settings.bucket_ledger, Prefix=f"raw/{tenant}/")
            assert not left.get("Versions") and not left.get("DeleteMarkers")
    finally:
        await sealer.stop()
        await sealer.close()
