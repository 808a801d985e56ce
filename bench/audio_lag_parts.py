"""Where an entry's audio lag goes, under the bench's bursty load (a measurement, not a test).

    VOXLEDGER_HOME=... .venv/bin/python bench/audio_lag_parts.py --tenant T [--commit 0.1]

Replays a tenant sealed by ``bench/projection_cpu.py seal`` (e.g. ``--sessions 40 --duration
25``: the sessions start together, so the bench's four scripts' agent turns arrive at once, a
harsher burst than `make bench` makes: its sessions start over 10 s, or over one second with
``voxledger bench --lockstep``) to the audio recorder at the
call's own pace: every ``--commit`` seconds (the sealer's linger) the entries whose call time has
come are uncovered at once, as a sealer batch commits them. The recorder polls as its follower
does (a poll starts at most every ``linger`` seconds after the previous one started).

For every entry it times: uncovered → read by a poll's query (waiting for a poll), read → its
``SessionJob.process`` call started (queued behind other sessions' steps and its own session's
earlier rows), the call itself (the entry waits for its whole batch), and the call's end → the
progress row (or completion) covering it was committed. It prints p50/p99/max of each share and
of the sum, for all entries and for the entries whose total lag is in the top 1%; then per second
of the run the p99 and the mean of each share, the wall of openings and completions, and the
rounds longer than 0.5 s. The bench's own sampling (every 0.25 s) and the sealer's lag come on
top of this. Runs on the shared 2-core box vary by up to 2x: compare several runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import projection_cpu as pc

import services.audio.consumer as ac
import services.audio.job as job_mod
from services.platform.db import make_async_engine
from services.platform.settings import load_settings

READ: dict[tuple[str, int], float] = {}  # (session, seq) -> when the query returning it started
PROC: dict[tuple[str, int], tuple[float, float]] = {}  # -> process() call start, end
SAVED: dict[str, list[tuple[float, int]]] = defaultdict(list)  # session -> (commit time, seq)
CPU: list[float] = []  # thread CPU of each process() call
WALL: dict[str, list[float]] = defaultdict(list)  # wall of openings and completions' parts


def instrument() -> None:
    real_many = ac.entries_after_many

    async def many(conn: Any, after: Any, limit: int) -> Any:
        t = time.perf_counter()
        out = await real_many(conn, after, limit)
        for (_, s), rows in out.items():
            for r in rows:
                READ.setdefault((s, r.seq), t)
        return out

    ac.entries_after_many = many  # type: ignore[assignment]
    real_one = ac.entries_after

    async def one(conn: Any, tenant: str, session: str, after_seq: int, limit: int) -> Any:
        t = time.perf_counter()
        rows = await real_one(conn, tenant, session, after_seq, limit)
        for r in rows:
            READ.setdefault((session, r.seq), t)
        return rows

    ac.entries_after = one  # type: ignore[assignment]
    real_process = job_mod.SessionJob.process

    def process(self: Any, rows: Any) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        real_process(self, rows)
        t1 = time.perf_counter()
        CPU.append(time.thread_time() - c0)
        for r in rows:
            PROC.setdefault((self.session, r.seq), (t0, t1))

    job_mod.SessionJob.process = process  # type: ignore[method-assign]
    real_progress = ac.store.save_progress

    async def save_progress(conn: Any, fed: dict[tuple[str, str], int]) -> None:
        await real_progress(conn, fed)
        t = time.perf_counter()  # committed just after (the caller's transaction): close enough
        for (_, s), seq in fed.items():
            SAVED[s].append((t, seq))

    ac.store.save_progress = save_progress  # type: ignore[assignment]
    real_parts = ac.store.save_parts

    async def save_parts(conn: Any, tenant: str, session: str, kind: str, parts: Any,
                         last_seq: int) -> None:
        await real_parts(conn, tenant, session, kind, parts, last_seq)
        SAVED[session].append((time.perf_counter(), last_seq))

    ac.store.save_parts = save_parts  # type: ignore[assignment]
    real_complete = ac.store.complete

    async def complete(conn: Any, tenant: str, session: str, kind: str, values: Any) -> None:
        await real_complete(conn, tenant, session, kind, values)
        SAVED[session].append((time.perf_counter(), 1 << 62))

    ac.store.complete = complete  # type: ignore[assignment]
    real_open = ac.AudioRecorder._open

    async def open_(self: Any, *a: Any) -> Any:
        t = time.perf_counter()
        try:
            return await real_open(self, *a)
        finally:
            WALL["open"].append(time.perf_counter() - t)

    ac.AudioRecorder._open = open_  # type: ignore[method-assign]
    for name in ("finish_render", "finish_kind"):
        def wrap(real: Any, name: str = name) -> Any:
            def f(*a: Any) -> Any:
                t = time.perf_counter()
                try:
                    return real(*a)
                finally:
                    WALL[name].append(time.perf_counter() - t)
            return f
        setattr(job_mod.SessionJob, name, wrap(getattr(job_mod.SessionJob, name)))


def pct(v: list[float], q: float) -> float:
    s = sorted(v)
    return s[max(0, min(len(s) - 1, round(q / 100 * len(s)) - 1))]


async def run(tenant: str, commit_s: float, linger: float, slow: float) -> None:
    settings = load_settings()
    engine = make_async_engine(settings)
    rows = await pc.ledger_rows(engine, tenant)
    live, clock = pc.Live(rows), pc.Clock()
    pc.patch(live, clock)
    instrument()
    rec = pc.make("audio", settings, tenant)
    assert isinstance(rec, ac.AudioRecorder)
    await pc.reset(engine, tenant, rec.name)
    live.reset()
    # An entry is uncovered when its call time has come (in position order, as sealed).
    due = [r.mono_ns / 1e9 * slow for r in rows]
    for i in range(1, len(due)):
        due[i] = max(due[i], due[i - 1])
    visible: dict[tuple[str, int], float] = {}
    start = time.perf_counter()
    stop = False

    async def sealer() -> None:
        while not stop and live.cap < len(rows):
            now = time.perf_counter() - start
            upto = live.cap
            while upto < len(rows) and due[upto] <= now:
                upto += 1
            if upto > live.cap:
                t = time.perf_counter()
                for r in rows[live.cap:upto]:
                    visible.setdefault((r.session_id, r.seq), t)
                live.advance(upto - live.cap)
            await asyncio.sleep(commit_s)

    task = asyncio.create_task(sealer())
    sessions = {r.session_id for r in rows}
    polls: list[float] = []
    starts: list[float] = []
    c0 = time.process_time()
    while rec.completed < len(sessions):
        t0 = time.perf_counter()
        starts.append(t0 - start)
        await rec.maintain(engine)  # as its follower calls it
        polls.append(time.perf_counter() - t0)
        if polls[-1] < linger:
            await asyncio.sleep(linger - polls[-1])
    cpu = time.process_time() - c0
    stop = True
    await task
    await rec.close()
    await engine.dispose()
    lags: list[tuple[float, tuple[float, float, float, float]]] = []
    at: list[float] = []
    for key, tv in visible.items():
        s, seq = key
        tr = READ.get(key)
        tp = PROC.get(key)
        if tr is None or tp is None:
            continue
        saves = [t for t, q in SAVED[s] if q >= seq] or [tp[1]]
        ts = min(saves)
        split = (max(0.0, tr - tv), tp[0] - tr, tp[1] - tp[0], ts - tp[1])
        lags.append((ts - tv, split))
        at.append(tv - start)
    names = ("wait for poll", "queued", "in process()", "to progress")
    print(f"{len(rows)} entries of {len(sessions)} sessions, {len(polls)} polls "
          f"(wall mean {statistics.mean(polls) * 1000:.0f} ms, max {max(polls) * 1000:.0f} ms), "
          f"process() calls {len(CPU)} (thread CPU {sum(CPU):.2f} s; "
          f"{sum(CPU) / len(rows) * 1e6:.0f} us/entry), process CPU {cpu:.2f} s")
    total = [t for t, _ in lags]
    print(f"  lag: p50 {pct(total, 50) * 1000:.0f} ms, p99 {pct(total, 99) * 1000:.0f} ms, "
          f"max {max(total) * 1000:.0f} ms  (n={len(total)})")
    cut = pct(total, 99)
    top = [sp for t, sp in lags if t >= cut]
    for k, name in enumerate(names):
        v = [sp[k] for _, sp in lags]
        print(f"  {name:14s} p50 {pct(v, 50) * 1000:6.0f}  p99 {pct(v, 99) * 1000:6.0f}  "
              f"mean {statistics.mean(v) * 1000:6.0f} ms | top 1% mean "
              f"{statistics.mean(sp[k] for sp in top) * 1000:6.0f} ms")
    # by second of call time: where the tail comes from
    by: dict[int, list[tuple[float, tuple[float, float, float, float]]]] = defaultdict(list)
    for tv, (t, sp) in zip(at, lags, strict=True):
        by[int(tv)].append((t, sp))
    for sec in sorted(by):
        v = by[sec]
        print(f"  t={sec:3d}s n={len(v):5d} p99 {pct([t for t, _ in v], 99) * 1000:5.0f} ms | "
              + " ".join(f"{statistics.mean(sp[k] for _, sp in v) * 1000:5.0f}"
                         for k in range(4)))
    for name, v in WALL.items():
        print(f"  {name}: n={len(v)} mean {statistics.mean(v) * 1000:.0f} ms "
              f"max {max(v) * 1000:.0f} ms")
    print("  polls > 0.5 s (t, wall ms):", [(round(t, 1), round(d * 1000)) for t, d in
                                            zip(starts, polls, strict=True) if d > 0.5])


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="where each entry's audio lag goes (see the "
                                 "module docstring); needs VOXLEDGER_HOME's stack")
    ap.add_argument("--tenant", required=True,
                    help="a tenant sealed by bench/projection_cpu.py seal")
    ap.add_argument("--commit", type=float, default=0.1,
                    help="seconds between uncoverings, as the sealer's batches commit (0.1)")
    ap.add_argument("--linger", type=float, default=0.2,
                    help="least seconds from one poll's start to the next (0.2)")
    ap.add_argument("--slow", type=float, default=1.0, help="stretch call time by this")
    a = ap.parse_args()
    asyncio.run(run(a.tenant, a.commit, a.linger, a.slow))
