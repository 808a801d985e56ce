"""``voxledger bench`` end to end: private stack up, pipeline live, the scenarios, stack down."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import sys
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.bench.naive import drain_naive
from services.bench.private import REPO
from services.bench.scenarios import Bench, BenchConfig, Say, StepResult

RAW_PCM_BYTES_PER_MIN = 24000 * 2 * 2 * 60  # 24 kHz PCM16, both directions


async def _ingest(bench: Bench, engine: AsyncEngine) -> list[StepResult]:
    cfg, results = bench.cfg, []
    passed, failed = 0, 0
    bench.say("warm-up: 2 real-time sessions for 6s (not reported)")
    await bench.step(engine, 2, duration_s=6, label="warm")
    for n in cfg.steps:
        bench.say(f"ingest: {n} real-time sessions of {cfg.duration_s:.0f}s, starting over "
                  f"{cfg.arrivals_s:.0f}s")
        res = await bench.step(engine, n)
        results.append(res)
        bench.say(_step_line(res))
        if not res.sustained:
            failed = n
            break
        passed = n
    if cfg.bisect and failed and failed - passed > 2:
        n = (passed + failed) // 2
        await _settle(bench, engine)
        bench.say(f"ingest: {n} real-time sessions (between {passed} and {failed})")
        res = await bench.step(engine, n)
        results.append(res)
        bench.say(_step_line(res))
    return results


def _step_line(r: StepResult) -> str:
    return (f"  N={r.sessions}: {r.events} events, {r.events_per_s:.0f}/s, lag p50 "
            f"{r.lag_p50_ms:.0f} ms p99 {r.lag_p99_ms:.0f} ms, audio p99 "
            f"{r.audio_lag_p99_ms:.0f} ms, record() p99 {r.record_p99_ms:.3f} ms max "
            f"{r.record_max_ms:.1f} ms, lost {r.lost}, dup {r.duplicated}, drained "
            f"{r.drain_s:.1f}s after the load → "
            + ("sustained" if r.sustained else "NOT sustained"))


async def _settle(bench: Bench, engine: AsyncEngine, timeout: float = 300) -> None:
    """Let the pipeline finish a backlog left by a step it could not keep up with."""
    from services.runner.progress import wait_caught_up

    settings = bench.stack.settings()
    await wait_caught_up(settings, ["sealer", "transcripts", "catalog"], timeout)


async def _throughput(bench: Bench, engine: AsyncEngine) -> dict[str, Any]:
    cfg = bench.cfg
    await _settle(bench, engine)
    bench.stop_pipeline()
    tenant = f"bench-{bench.run_id}-backlog"
    bench.say(f"throughput: backlog of {cfg.backlog_sessions} sessions x "
              f"{cfg.backlog_duration_s:.0f}s, consumers stopped")
    proc, ids_path = await bench.load(tenant, cfg.backlog_sessions, cfg.backlog_duration_s,
                                      fast=True)
    result, ids = await bench.load_result(proc, ids_path)
    events = len(ids)
    settings = bench.stack.settings()
    bench.say(f"  baseline: naive consumer over {events} events (INSERT + COMMIT each)")
    done, seconds = await drain_naive(settings, engine, tenant, events)
    baseline = done / seconds
    bench.say(f"  baseline: {done} events in {seconds:.1f}s = {baseline:.0f} events/s")
    bench.say("  pipeline: `voxledger run` over the same backlog")
    await bench.start_pipeline(settings)
    from services.runner.progress import wait_caught_up

    deadline = time.monotonic() + 600
    while True:
        if await wait_caught_up(settings, ["sealer", "transcripts", "catalog", "audio"], 5):
            _fed, complete = await bench.audio_state(engine, tenant)
            if complete >= cfg.backlog_sessions and \
                    await bench.sealed_count(engine, tenant) >= events:
                break
        if time.monotonic() > deadline:
            bench.say("  pipeline: backlog not drained in 600 s")
            break
    t1 = time.time()
    async with engine.connect() as conn:
        t0 = float((await conn.execute(text(
            "SELECT extract(epoch FROM min(sealed_at)) FROM ledger_entries WHERE tenant_id = :t"),
            {"t": tenant})).scalar_one())
    pipeline = events / max(1e-6, t1 - t0)
    bench.say(f"  pipeline: {events} events in {t1 - t0:.1f}s = {pipeline:.0f} events/s")
    lost, dup = await bench.ledger_check(engine, tenant, ids)
    bench.lost += lost
    bench.duplicated += dup
    return {"tenant": tenant, "events": events, "events_per_s": pipeline,
            "baseline_events_per_s": baseline, "audio_bytes": result["audio_bytes"],
            "call_seconds": result["call_seconds"]}


async def _storage(bench: Bench, engine: AsyncEngine, tenant: str, call_seconds: float
                   ) -> dict[str, float]:
    return await storage_report(bench.stack.settings(), engine, tenant, call_seconds)


async def storage_report(settings: Any, engine: AsyncEngine, tenant: str, call_seconds: float
                         ) -> dict[str, float]:
    """Bytes stored for a tenant's calls (raw audio objects, recordings, ledger rows) per
    call-minute, and ``storage_ratio``: those bytes over the raw PCM of both directions."""
    from services.platform.s3 import make_s3_client

    s3 = make_s3_client(settings)

    def size(bucket: str, prefix: str) -> tuple[int, int]:
        total, count = 0, 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            total += sum(int(o["Size"]) for o in page.get("Contents", []))
            count += len(page.get("Contents", []))
        return total, count

    raw_seg, raw_objects = await asyncio.to_thread(size, settings.bucket_ledger, f"raw/{tenant}/")
    recordings, rec_objects = await asyncio.to_thread(size, settings.bucket_audio,
                                                      f"recordings/{tenant}/")
    async with engine.connect() as conn:
        pg = int((await conn.execute(text(
            "SELECT (SELECT coalesce(sum(pg_column_size(e.*)), 0) FROM ledger_entries e "
            "WHERE tenant_id = :t) + (SELECT coalesce(sum(pg_column_size(r.*)), 0) "
            "FROM ledger_audio_refs r WHERE tenant_id = :t)"), {"t": tenant})).scalar_one())
    minutes = call_seconds / 60
    stored = raw_seg + recordings + pg
    return {"bytes_per_call_minute": stored / minutes, "ledger_audio_bytes": raw_seg,
            "ledger_audio_objects": raw_objects, "recording_bytes": recordings,
            "recording_objects": rec_objects, "postgres_bytes": pg,
            "storage_ratio": stored / (RAW_PCM_BYTES_PER_MIN * minutes)}


def _verify(bench: Bench, tenant: str, entries: int) -> float:
    """Entries/s of the ledger recomputation verify reports (read, hash, leaf, tree); the
    whole command's wall-clock rate (audio objects and process start included) is said too."""
    t0 = time.monotonic()
    result = bench.stack.vox("verify", "--tenant", tenant, "--json", check=False, timeout=600)
    seconds = time.monotonic() - t0
    if result.returncode != 0:
        bench.say(f"verify: exit {result.returncode}: {result.stderr[-300:]}")
        return 0.0
    reported = json.loads(result.stdout).get("entries_per_s") or 0
    bench.say(f"verify: {reported} entries/s recomputed; {entries / seconds:.0f} entries/s wall")
    return float(reported) or entries / seconds


def _redaction(say: Say) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "bench/redaction_eval.py", "--repeat", "1"],
                            cwd=REPO, text=True, capture_output=True, timeout=300, check=False)
    if result.returncode != 0:
        say(f"redaction: eval failed: {result.stderr[-300:]}")
        return {}
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


async def run_bench(cfg: BenchConfig, say: Say, keep: bool = False) -> dict[str, Any]:
    from services.platform.db import make_async_engine

    bench = Bench(cfg, say)
    bench.logs.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(bench.meters, ignore_errors=True)  # reports of an earlier run's processes
    started = time.monotonic()
    say(f"private stack under {cfg.home}")
    settings = await asyncio.to_thread(bench.stack.up)
    servers = await asyncio.to_thread(bench.stack.status)
    bench.server_pids = {name: int(s["pid"]) for name, s in servers.items() if s.get("pid")}
    engine = make_async_engine(settings, pool_size=4)
    try:
        say("starting `voxledger run` (every consumer)")
        await bench.start_pipeline(settings)
        steps = await _ingest(bench, engine)
        tp = await _throughput(bench, engine)
        say("verify: `voxledger verify` over the backlog tenant")
        entries = await bench.sealed_count(engine, tp["tenant"])
        verify_eps = await asyncio.to_thread(_verify, bench, tp["tenant"], entries)
        storage = await _storage(bench, engine, tp["tenant"], tp["call_seconds"])
        say("redaction: bench/redaction_eval.py")
        red = await asyncio.to_thread(_redaction, say)
    finally:
        bench.stop_pipeline()
        await engine.dispose()
        if not keep:
            say("stopping the private stack (`voxledger down`)")
            await asyncio.to_thread(bench.stack.down)
    ok = [s for s in steps if s.sustained]
    best = max(ok, key=lambda s: s.sessions) if ok else None
    summary: dict[str, Any] = {
        "sessions_sustained": best.sessions if best else 0,
        "arrivals_s": bench.cfg.arrivals_s,  # each step's session starts spread over this
        "events_per_s": round(tp["events_per_s"]),
        "lag_p99_ms": _r(best.lag_p99_ms if best else steps[0].lag_p99_ms),
        "audio_lag_p99_ms": _r(best.audio_lag_p99_ms if best else steps[0].audio_lag_p99_ms),
        "record_p99_ms": _r3((best or steps[0]).record_p99_ms),
        "record_max_ms": _r3(max((s.record_max_ms for s in steps
                                  if not math.isnan(s.record_max_ms)), default=math.nan)),
        "baseline_events_per_s": round(tp["baseline_events_per_s"]),
        "ingest_ratio": round(tp["events_per_s"] / max(1e-6, tp["baseline_events_per_s"]), 2),
        "redaction_words_per_s": red.get("redaction_words_per_s"),
        "presidio_words_per_s": red.get("presidio_words_per_s"),
        "redaction_ratio": red.get("redaction_ratio"),
        "verify_entries_per_s": round(verify_eps),
        "storage_ratio": round(storage["storage_ratio"], 3),
        "lost": bench.lost, "duplicated": bench.duplicated,
        "realtime_events_per_s": round(best.events_per_s) if best else 0,
        # at the sustained N (else the first step), per component
        "cpu_ms_per_event": {k: round(v, 3) for k, v in
                             (best or steps[0]).cpu_ms_per_event.items()},
        "bytes_per_call_minute": round(storage["bytes_per_call_minute"]),
        "elapsed_s": round(time.monotonic() - started),
    }
    return {"summary": summary, "steps": steps, "storage": storage, "throughput": tp}


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x)


def _r3(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 3)
