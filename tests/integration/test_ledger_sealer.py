"""Acceptance: 20 simulated sessions of mixed providers are sealed completely and verify."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from schemas.batch import is_batch_subject, split_batch
from services.ledger.payloads import open_payload
from services.ledger.sealing import payload_aad
from services.ledger.summary import ledger_summary
from services.platform.keys import subject_index
from services.platform.settings import Settings
from services.simulator import simulate
from tests.conftest import REPO
from tests.integration.ledger_helpers import PHONE, TenantSealer, publish_small_session

pytestmark = pytest.mark.integration

# 20 sessions: every provider profile, the busiest ones more than once.
MIX = {"openai": 4, "openai-beta": 3, "gemini": 3, "elevenlabs": 3, "twilio": 3, "custom": 4}


async def test_twenty_mixed_sessions_seal_completely_and_verify(settings: Settings,
                                                                tenant: str) -> None:
    assert sum(MIX.values()) == 20
    sealer = TenantSealer(settings, tenant)
    published = 0
    sessions = []
    t0 = time.monotonic()
    for seed, (provider, count) in enumerate(MIX.items()):
        for result in await simulate(settings, provider, sessions=count, seed=seed + 1,
                                     tenant=tenant):
            published += result.events
            sessions.append(result.session_id)
    publish_s = time.monotonic() - t0
    # Seal the whole backlog at once: the time it takes is the sealer's own throughput.
    t1 = time.monotonic()
    await sealer.start()
    try:
        await sealer.wait_for(published)
        sealed_s = time.monotonic() - t1
    finally:
        await sealer.stop()
    try:
        assert await sealer.count() == published
        report = await sealer.verify()
        assert report.ok, [str(e) for e in report.errors]
        assert (report.entries, report.sessions) == (published, 20)
        assert report.checkpoints >= 20  # one at each session end, at least
        async with sealer.engine.connect() as conn:
            for session in sessions:
                summary = await ledger_summary(conn, tenant, session)
                assert summary["ended"] and summary["gaps"] == [] and summary["duplicates"] == 0
            positions = (await conn.execute(text(
                "SELECT count(DISTINCT position), min(position), max(position) FROM "
                "ledger_entries WHERE tenant_id = :t"), {"t": tenant})).one()
            assert tuple(positions) == (published, 0, published - 1)
        print(f"\n[ledger] 20 sessions: {published} events published in {publish_s:.1f}s; "
              f"the backlog sealed in {sealed_s:.1f}s → {published / sealed_s:.0f} sealed "
              f"events/s (lag is measured on real-time sessions in test_ledger_faults)")
    finally:
        await sealer.close()
    cli = subprocess.run([sys.executable, "-m", "services.cli", "verify", "--tenant", tenant,
                          "--json"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert cli.returncode == 0, cli.stdout[-2000:] + cli.stderr[-2000:]
    out = json.loads(cli.stdout)
    assert out["ok"] is True and out["entries"] == published and out["errors"] == []


async def test_subjects_encrypted_and_indexed_duplicates_counted(settings: Settings, tenant: str,
                                                                 session_id: str) -> None:
    count = await publish_small_session(settings, tenant, session_id, frames=5)
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(count)
        # Republish seq 3 under a new Nats-Msg-Id (past the NATS dedupe window): the ledger
        # must drop it by event_id and count it.
        async with sealer.engine.connect() as conn:
            event_id = (await conn.execute(text(
                "SELECT event_id FROM ledger_entries WHERE tenant_id = :t AND seq = 3"),
                {"t": tenant})).scalar_one()
        await _republish(settings, tenant, event_id)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with sealer.engine.connect() as conn:
                summary = await ledger_summary(conn, tenant, session_id)
            if summary["duplicates"]:
                break
            await asyncio.sleep(0.2)
    finally:
        await sealer.stop()
    try:
        assert summary["duplicates"] == 1 and summary["entries"] == count
        assert await sealer.count() == count
        pepper = sealer.keys.pepper(tenant)
        async with sealer.engine.connect() as conn:
            found = (await conn.execute(text(
                "SELECT session_id, kind FROM ledger_subjects WHERE tenant_id = :t AND "
                "subject_index = :i"), {"t": tenant, "i": subject_index(pepper, PHONE)})).all()
            assert found == [(session_id, "phone_e164")]
            wrapped, = (await conn.execute(text(
                "SELECT wrapped_dek FROM ledger_sessions WHERE tenant_id = :t"),
                {"t": tenant})).one()
            eid, ct = (await conn.execute(text(
                "SELECT event_id, payload_ct FROM ledger_entries WHERE tenant_id = :t AND "
                "type = 'session.started'"), {"t": tenant})).one()
            for (blob,) in await conn.execute(text(
                    "SELECT payload_ct FROM ledger_entries WHERE tenant_id = :t "
                    "UNION ALL SELECT value_ct FROM ledger_subjects WHERE tenant_id = :t"),
                    {"t": tenant}):
                assert PHONE.encode() not in bytes(blob)
        clear = open_payload(sealer.keys.unwrap_dek(tenant, wrapped, session_id), ct,
                        payload_aad(tenant, session_id, eid))
        assert PHONE.encode() not in clear and b"C-77" not in clear
        assert json.loads(clear)["subject"]["phone_e164"]["$subject"] == subject_index(
            pepper, PHONE)
        assert (await sealer.verify()).ok
    finally:
        await sealer.close()


async def _republish(settings: Settings, tenant: str, event_id: str) -> None:
    """Publish the stored envelope of ``event_id`` again, under another Nats-Msg-Id."""
    from services.platform.nats import connect

    nc = await connect(settings)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(f"{settings.subject_prefix}.{tenant}.>", ordered_consumer=True)
        try:
            while True:
                msg = await sub.next_msg(timeout=10)
                if event_id.encode() in msg.data:
                    data = msg.data
                    if is_batch_subject(msg.subject):  # that member alone (a batch of one)
                        data = next(m for m in split_batch(data, None) if event_id.encode() in m)
                    await js.publish(msg.subject, data,
                                     headers={"Nats-Msg-Id": event_id + "-again"})
                    return
        finally:
            await sub.unsubscribe()
    finally:
        await nc.close()
