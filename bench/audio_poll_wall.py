"""Where the wall time of one AudioRecorder.poll goes (an investigation harness, not a product).

    VOXLEDGER_HOME=... .venv/bin/python bench/audio_poll_wall.py --tenant T [--realtime]

Replays a tenant sealed by ``bench/projection_cpu.py seal`` to the audio recorder as if live
(its patches), uncovering the call time elapsed since the last poll start, at least the 0.2 s
linger (``--realtime``: a steady state like the follower's loop) or a fixed ``--window`` (the
same work per poll whatever the code: compare poll walls with it), and prints per poll: wall,
its phases and per-session step times, S3 GETs, part uploads, DB statements. Steps overlap, so
phase times are sums over concurrent steps.

    ... --live [--slow 2]

uncovers the ledger at its real rate (``--slow``: stretched) while polling like the follower,
and prints the audio lag (p50/p99 by phase: first second, middle, last second).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import projection_cpu as pc

import services.audio.consumer as ac
import services.audio.job as job_mod
import services.audio.source as src
import services.audio.store as store
from services.platform.db import make_async_engine
from services.platform.settings import load_settings

T: dict[str, float] = defaultdict(float)
N: dict[str, int] = defaultdict(int)
STEPS: list[float] = []
_lock = threading.Lock()


def add(name: str, dt: float, n: int = 1) -> None:
    with _lock:
        T[name] += dt
        N[name] += n


def wrap_sync(obj: Any, attr: str, name: str) -> None:
    real = getattr(obj, attr)

    def f(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            add(name, time.perf_counter() - t0)

    setattr(obj, attr, f)


def wrap_async(obj: Any, attr: str, name: str, per_step: bool = False) -> None:
    real = getattr(obj, attr)

    async def f(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await real(*a, **k)
        finally:
            dt = time.perf_counter() - t0
            add(name, dt)
            if per_step:
                STEPS.append(dt)

    setattr(obj, attr, f)


def instrument(rec: ac.AudioRecorder) -> None:
    wrap_async(ac.AudioRecorder, "_step", "step", per_step=True)
    wrap_async(ac.AudioRecorder, "_save_parts", "db.save_parts")
    wrap_async(ac.AudioRecorder, "_open", "open(job)")
    wrap_async(ac.store, "open_sessions", "db.open_sessions")
    wrap_async(ac, "entries_after_many", "db.entries_after_many")
    wrap_async(ac, "entries_after", "db.entries_after(extra)")
    wrap_async(ac.store, "save_progress", "db.save_progress")
    wrap_sync(job_mod.SessionJob, "process", "process(thread)")
    wrap_sync(src.SegmentReader, "prefetch", "  prefetch(S3 GET wall)")
    wrap_sync(job_mod, "decode", "  decode")
    wrap_sync(job_mod.SessionRenderer, "feed", "  render.feed")
    wrap_sync(job_mod.RecordingSink, "write", "  sink.write(flac+enc)")
    wrap_sync(store.Uploads, "put", "  s3.upload_part")
    wrap_sync(store.Uploads, "start", "  s3.create_multipart")
    wrap_sync(store.Uploads, "complete", "  s3.complete_multipart")
    wrap_sync(job_mod.SessionJob, "finish_render", "finish_render(thread)")
    wrap_sync(job_mod.SessionJob, "finish_kind", "finish_kind(threads)")
    wrap_sync(rec.keys, "unwrap_dek", "  unwrap_dek")
    real_get = rec.objects.client.get_object

    def get_object(**k: Any) -> Any:
        t0 = time.perf_counter()
        r = real_get(**k)
        body = r["Body"].read()
        add("s3.get_object(sum over threads)", time.perf_counter() - t0)

        class B:
            def read(self) -> bytes:
                return body
        return {**r, "Body": B()}

    rec.objects.client.get_object = get_object  # same client as the segment readers


async def main(tenant: str, realtime: bool, window_s: float, linger: float) -> None:
    settings = load_settings()
    engine = make_async_engine(settings)
    rows = await pc.ledger_rows(engine, tenant)
    duration_s = max(r.mono_ns for r in rows) / 1e9
    rate = len(rows) / duration_s
    live, clock = pc.Live(rows), pc.Clock()
    pc.patch(live, clock)
    rec = pc.make("audio", settings, tenant)
    assert isinstance(rec, ac.AudioRecorder)
    instrument(rec)
    await pc.reset(engine, tenant, rec.name)
    print(f"{len(rows)} entries, {duration_s:.0f} s, {rate:.0f} entries/s; "
          f"{'realtime' if realtime else f'window {window_s}s'}")
    live.reset()
    polls = []
    last = 0.0
    nsess = []
    while live.cap < len(live.rows):
        # realtime: the follower starts a poll at most every ``linger`` seconds
        cov = max(last, linger) if realtime else window_s
        live.advance(max(1, round(rate * cov)))
        if realtime and last < linger:
            await asyncio.sleep(linger - last)
        T.clear()
        N.clear()
        STEPS.clear()
        gets0 = rec.objects.gets
        t0 = time.perf_counter()
        c0 = time.process_time()
        fed = await rec.poll(engine)
        last = time.perf_counter() - t0
        polls.append((last, time.process_time() - c0, fed, dict(T), dict(N), list(STEPS),
                      rec.objects.gets - gets0))
        nsess.append(len(STEPS))
    await rec.close()
    await engine.dispose()
    for i, p in enumerate(polls):
        if i < 4 or i >= len(polls) - 4:
            top = sorted(p[3].items(), key=lambda kv: -kv[1])[:5]
            print(f"  poll {i}: wall {p[0] * 1000:.0f} ms cpu {p[1] * 1000:.0f} ms fed {p[2]} "
                  f"steps {len(p[5])}: " + ", ".join(f"{k.strip()} {v * 1000:.0f}" for k, v in top)
                  + " | calls " + ", ".join(f"{k.strip()} {p[4][k]}" for k, _ in top))
    # steady state: the middle half of polls (all sessions open)
    mid = polls[len(polls) // 4: 3 * len(polls) // 4] or polls
    print(f"{len(polls)} polls; steady-state {len(mid)} polls:")
    print(f"  poll wall mean {statistics.mean(p[0] for p in mid) * 1000:.0f} ms, "
          f"max {max(p[0] for p in mid) * 1000:.0f} ms; CPU(process) mean "
          f"{statistics.mean(p[1] for p in mid) * 1000:.0f} ms; rows fed/poll "
          f"{statistics.mean(p[2] for p in mid):.0f}; batch-object GETs/poll "
          f"{statistics.mean(p[6] for p in mid):.1f}")
    keys = sorted({k for p in mid for k in p[3]})
    for k in keys:
        tot = statistics.mean(p[3].get(k, 0.0) for p in mid)
        cnt = statistics.mean(p[4].get(k, 0) for p in mid)
        print(f"  {k:34s} {tot * 1000:8.1f} ms/poll  {cnt:7.1f} calls/poll")
    steps = [s for p in mid for s in p[5]]
    if steps:
        q = statistics.quantiles(steps, n=20)
        print(f"  per-session step: n={len(steps)} mean {statistics.mean(steps) * 1000:.1f} ms "
              f"p50 {q[9] * 1000:.1f} p95 {q[18] * 1000:.1f} max {max(steps) * 1000:.1f} ms")


async def live_lag(tenant: str, linger: float, slow: float) -> None:
    """Uncover the ledger at its real rate while polling like the follower (a poll starts at
    most every ``linger`` seconds: services/ledger/follower.py);
    the lag of each entry = when the persisted last_seq (or completion) covered it - uncovered.
    ``slow``: stretch call time (1.0 = real time; 2.0 = the recorder gets half the CPU needed)."""
    settings = load_settings()
    engine = make_async_engine(settings)
    rows = await pc.ledger_rows(engine, tenant)
    duration_s = max(r.mono_ns for r in rows) / 1e9
    rate = len(rows) / duration_s / slow
    live, clock = pc.Live(rows), pc.Clock()
    pc.patch(live, clock)
    rec = pc.make("audio", settings, tenant)
    assert isinstance(rec, ac.AudioRecorder)
    await pc.reset(engine, tenant, rec.name)
    done: dict[str, float] = {}
    real_complete = ac.store.complete

    async def complete(conn: Any, t: str, s: str, kind: str, values: Any) -> None:
        await real_complete(conn, t, s, kind, values)
        done[s] = time.perf_counter()  # committed with the transaction just after: close enough

    ac.store.complete = complete  # type: ignore[assignment]
    live.reset()
    start = time.perf_counter()
    stop = False

    async def uncover() -> None:
        while not stop and live.cap < len(live.rows):
            want = min(len(live.rows), int(rate * (time.perf_counter() - start)))
            if want > live.cap:
                live.advance(want - live.cap)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(uncover())
    snaps: list[tuple[float, dict[str, int]]] = []
    polls: list[tuple[float, float]] = []
    while len(done) < len({r.session_id for r in rows}):
        t0 = time.perf_counter()
        await rec.poll(engine)
        t1 = time.perf_counter()
        polls.append((t0 - start, t1 - t0))
        snaps.append((t1, {k[1]: j.persisted_seq for k, j in rec.jobs.items()}))
        if t1 - t0 < linger:
            await asyncio.sleep(linger - (t1 - t0))
    stop = True
    await task
    await rec.close()
    await engine.dispose()
    from services.bench.measure import audio_lags, percentile
    entries: dict[str, list[tuple[int, float]]] = defaultdict(list)
    phase: dict[tuple[str, int], str] = {}
    for i, r in enumerate(rows):
        t = start + i / rate
        entries[r.session_id].append((r.seq, t))
        rel = i / rate
        phase[(r.session_id, r.seq)] = ("start" if rel < 1.0 else "end"
                                        if rel > duration_s * slow - 1.0 else "mid")
    lags = audio_lags(snaps, entries, done)
    print(f"live x{slow}: {len(rows)} entries, polls {len(polls)}, poll wall mean "
          f"{statistics.mean(d for _, d in polls) * 1000:.0f} ms max "
          f"{max(d for _, d in polls) * 1000:.0f} ms")
    print(f"  audio lag p50 {percentile(lags, 50) * 1000:.0f} ms p99 "
          f"{percentile(lags, 99) * 1000:.0f} ms max {max(lags) * 1000:.0f} ms")
    # by phase (first / last second of call time vs the middle)
    by: dict[str, list[float]] = defaultdict(list)
    for s, es in entries.items():
        for seq, t in es:
            at = [ts for ts, m in snaps if m.get(s, -1) >= seq]
            cands = at[:1] + ([done[s]] if s in done else [])
            if cands:
                by[phase[(s, seq)]].append(max(0.0, min(cands) - t))
    for k, v in by.items():
        print(f"  {k:5s}: n={len(v)} p50 {percentile(v, 50) * 1000:.0f} p99 "
              f"{percentile(v, 99) * 1000:.0f} max {max(v) * 1000:.0f} ms")
    print("  slowest polls (t, wall ms):",
          [(round(t, 1), round(d * 1000)) for t, d in sorted(polls, key=lambda p: -p[1])[:6]])



if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--realtime", action="store_true")
    ap.add_argument("--window", type=float, default=1.0)
    ap.add_argument("--linger", type=float, default=0.2)
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--slow", type=float, default=1.0)
    a = ap.parse_args()
    if a.live:
        asyncio.run(live_lag(a.tenant, a.linger, a.slow))
    else:
        asyncio.run(main(a.tenant, a.realtime, a.window, a.linger))
