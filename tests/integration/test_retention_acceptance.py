"""Issue 15 acceptance against the real stack: a tenant keeps raw events 30 d, recordings 90 d,
transcripts 365 d; sessions recorded 10, 40, 100 and 400 days ago. The dry run lists exactly the
due (session, class) pairs; the run disposes them and a hold on the 400-day session wins until
it is released; `verify` still passes; disposed recordings refuse export; transcripts kept by
policy are still searchable."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sqlalchemy import Engine, text

from services.platform.settings import Settings
from services.retention import actions
from services.retention.holds import Holds, Target
from services.retention.job import dry_run, run
from services.retention.policy import set_policy
from services.transcripts.reads import SearchFilters, search
from tests.integration.ledger_helpers import TenantSealer, raw_object_versions
from tests.integration.retention_helpers import (
    acli,
    context,
    journal_types,
    record_aged,
    seal_record_transcribe,
)
from tests.integration.retention_registry import registry

pytestmark = pytest.mark.integration

POLICY = {"raw_events": 30, "recordings": 90, "transcripts": 365}
AGES = [10, 40, 100, 400]


def _expected(sids: dict[int, str]) -> set[tuple[str, str]]:
    return {(sids[age], dc) for age in AGES for dc, days in POLICY.items() if age >= days}


def _pairs(report: dict[str, Any], status: str | None = None) -> set[tuple[str, str]]:
    return {(s["session_id"], s["class"]) for s in report["sessions"]
            if status is None or s["status"] == status}


def _versions(s3: Any, bucket: str, prefix: str) -> list[tuple[str, str]]:
    res = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return [(v["Key"], v["VersionId"]) for v in res.get("Versions", [])]


def _searchable(sync_engine: Engine, tenant: str) -> set[str]:
    with sync_engine.connect() as conn:
        hits = search(conn, "account", SearchFilters(tenant=tenant, limit=100))
    return {h["session_id"] for h in hits}


async def test_policy_dry_run_run_hold_release(settings: Settings, tenant: str,
                                               sync_engine: Engine, tmp_path: Path) -> None:
    forgetters = registry()
    sealer = TenantSealer(settings, tenant, backfill_days=500)
    await sealer.start()
    try:
        sims = await record_aged(settings, tenant, AGES)
        sids = {age: sims[age].session_id for age in AGES}
        await seal_record_transcribe(settings, sealer, tenant, sims, sync_engine)
        assert _searchable(sync_engine, tenant) == set(sids.values())  # the precondition

        async with context(settings) as ctx:
            for dc, days in POLICY.items():
                await set_policy(ctx.engine, settings, ctx.keys, tenant=tenant, data_class=dc,
                                 days=days, actor="test-dpo", now=ctx.clock.now())
            expected = _expected(sids)
            assert len(expected) == 6

            # The dry run lists exactly the due pairs, and changes nothing.
            preview = (await dry_run(ctx, tenant, forgetters, Holds(), ctx.clock.now())).as_json()
            assert _pairs(preview) == expected
            assert {dc: c["due"] for dc, c in preview["classes"].items() if c["due"]} == \
                {"raw_events": 3, "recordings": 2, "transcripts": 1}
            # ... and looks ahead: in 300 days the 100-day session's transcripts are due too.
            later = (await dry_run(ctx, tenant, forgetters, Holds(),
                                   ctx.clock.now() + _days(300))).as_json()
            assert (sids[100], "transcripts") in _pairs(later)
            assert (sids[10], "recordings") in _pairs(later)

            # A hold on the 400-day session: its objects are locked in S3.
            held_sid = sids[400]
            hold = await actions.place(ctx, tenant, Target("session", session_id=held_sid),
                                       "Doe v. Acme 2026-cv-0042", "subpoena of 2026-11-02",
                                       "test-counsel")
            assert hold["objects_locked"] > 0 and hold["warnings"] == []
            locked = {
                "bucket_audio": _versions(ctx.s3, settings.bucket_audio,
                                          f"recordings/{tenant}/{held_sid}/"),
                # the batch objects holding its raw audio parts (shared with other sessions)
                "bucket_ledger": await raw_object_versions(ctx.engine, ctx.s3,
                                                           settings.bucket_ledger, tenant,
                                                           held_sid)}
            assert locked["bucket_audio"] and locked["bucket_ledger"]
            for field, versions in locked.items():
                for key, version in versions:
                    with pytest.raises(ClientError):  # any version, while held
                        await asyncio.to_thread(ctx.s3.delete_object,
                                                Bucket=getattr(settings, field), Key=key,
                                                VersionId=version)

            report = (await run(ctx, tenant, forgetters, Holds())).as_json()
            held = {(held_sid, dc) for dc in POLICY}
            assert _pairs(report, "disposed") == expected - held
            assert _pairs(report, "held") == held
            assert all(s["matter"] == "Doe v. Acme 2026-cv-0042" for s in report["sessions"]
                       if s["status"] == "held")
            # Idempotent: nothing left to dispose but the held session.
            again = (await run(ctx, tenant, forgetters, Holds())).as_json()
            assert _pairs(again, "disposed") == set() and _pairs(again, "held") == held
            assert _versions(ctx.s3, settings.bucket_audio, f"recordings/{tenant}/{held_sid}/")

        # Disposed recordings refuse export; the kept ones still export.
        res = await acli("audio", "export", sids[100], "--tenant", tenant,
                         "-o", str(tmp_path / "gone.wav"), "--format", "wav")
        assert res.returncode != 0 and "error" in res.stderr.lower()
        assert not (tmp_path / "gone.wav").exists()
        res = await acli("audio", "export", sids[10], "--tenant", tenant,
                         "-o", str(tmp_path / "kept.wav"), "--format", "wav")
        assert res.returncode == 0, res.stderr
        # Transcripts of the 40- and 100-day sessions are kept (365 d); the held one too.
        assert _searchable(sync_engine, tenant) == set(sids.values())

        async with context(settings) as ctx:
            released = await actions.release(ctx, hold["hold_id"], "matter settled",
                                             "test-counsel")
            assert released["objects_unlocked"] == hold["objects_locked"]
            after = (await run(ctx, tenant, forgetters, Holds())).as_json()
            assert _pairs(after, "disposed") == held
            assert _versions(ctx.s3, settings.bucket_audio,
                             f"recordings/{tenant}/{held_sid}/") == []
            types = await journal_types(ctx, tenant)
            assert types.count("retention.policy_changed") == 3
            assert types.count("hold.placed") == 1 and types.count("hold.released") == 1
            assert types.count("retention.disposed") == 3  # a run with nothing due is silent
            async with ctx.engine.connect() as conn:
                disposals = (await conn.execute(text(
                    "SELECT session_id, data_class FROM retention_disposals WHERE tenant_id = :t"),
                    {"t": tenant})).all()
            assert {(str(a), str(b)) for a, b in disposals} == expected
        assert _searchable(sync_engine, tenant) == {sids[10], sids[40], sids[100]}
        # Wait for the sealer to checkpoint the journal, then verify as an operator would.
        await asyncio.sleep(0)
    finally:
        await sealer.stop()
        await sealer.close()
    res = await acli("verify", "--tenant", tenant)
    assert res.returncode == 0, res.stdout + res.stderr


def _days(n: int) -> Any:
    from datetime import timedelta

    return timedelta(days=n)
