"""The benchmark run: ingest (step N up), baseline vs pipeline throughput, verify, storage,
redaction; progress lines while it runs, then a table and one JSON line.

Definitions (printed with the table):

- warm-up: 2 real-time sessions for 6 s before the first step, not reported (a fresh process's
  first sessions pay for imports, caches and connections; loss is still counted);
- ingest step N: N real-time sessions of D seconds each with every consumer live (``voxledger
  run``), their starts spread evenly over A seconds (10, 4 with ``--quick``; ``--lockstep``: 1,
  the earlier bench), so N calls are live together from A to D and their conversations are at
  different points (the bench plays four near-identical scripts: started within a second, N calls
  got their agent's audio in the same second). Lags are taken over the entries recorded while all
  N are live (all entries with ``--lockstep``); the ramps carry less load. Publish→sealed lag per
  entry is ``sealed_at - recorded_at`` (``sealed_at`` is the sealing transaction's start,
  ``recorded_at`` the tap's wall clock); audio lag per entry is the time from ``recorded_at``
  until the audio recorder's persisted ``last_seq`` covered it (sampled every 0.25 s, so it
  over-states by up to that). ``events/s`` is the offered rate while all N are live. N is
  sustained when p99 lag < 1 s, p99 audio lag < 2 s, nothing is lost and the step drains: within
  the drain timeout after the load ends everything is sealed, every recording complete and every
  consumer (transcripts and redaction too, which may trail a burst at lower CPU priority) has
  nothing pending. ``sessions_sustained`` is the largest such N.
- throughput: a backlog of the same sessions published with the consumers stopped, then drained
  by the naive consumer (one INSERT + COMMIT per event) and by the whole pipeline (every
  consumer caught up and every recording complete): ``events_per_s`` / ``baseline_events_per_s``
  = ``ingest_ratio``. ``realtime_events_per_s`` is the offered rate at the sustained N.
- lost / duplicated: published event ids missing from the ledger / ledger rows beyond one per id,
  over every step and the backlog.
- record() p99 / max: the SDK's ``record()`` latency in the load generator (stamp, encode, append
  to the session's open batch; the publish is off that path), per step.
- CPU ms per event, per component, over a step (load start until drained) divided by the step's
  events: each consumer from its meter inside ``voxledger run`` (services/runner/cpu.py: task steps
  and thread-pool calls on the thread CPU clock, as consumers share processes), ``run other`` the
  rest of the ``run`` process tree (event loops, supervisor, metrics, API, erasure and retention
  jobs), then the NATS, Postgres and S3 server trees and the load generator (psutil).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.bench.measure import (
    ProcWatch,
    audio_lags,
    consumer_cpu,
    cpu_ms_per_event,
    percentile,
)
from services.bench.private import REPO, PrivateStack, stop
from services.runner.cpu import read_reports
from services.runner.progress import wait_caught_up

Say = Callable[[str], None]
CONSUMERS = ["catalog", "sealer", "audio", "transcripts", "redaction"]


@dataclass(frozen=True)
class BenchConfig:
    home: Path
    steps: tuple[int, ...]
    duration_s: float
    backlog_sessions: int
    backlog_duration_s: float
    drain_timeout_s: float
    bisect: bool
    arrivals_s: float = 1.0  # session starts spread over this; > 1: lags while all N are live

    @classmethod
    def make(cls, home: Path, quick: bool, lockstep: bool = False) -> BenchConfig:
        arrivals = 1.0 if lockstep else (4.0 if quick else 10.0)
        if quick:
            return cls(home, (4, 10), 10, 4, 15, 45, False, arrivals)
        # Steps up until one is not sustained, then one step between the last two. The steps
        # are finer around issue 13's goal (40 sessions), so the result near it is measured,
        # not left to one bisection.
        return cls(home, (6, 12, 18, 24, 30, 36, 40, 45, 50, 75, 100, 150), 25, 10, 30, 90,
                   True, arrivals)


@dataclass
class StepResult:
    sessions: int
    tenant: str
    events: int = 0
    events_per_s: float = 0.0
    lag_p50_ms: float = float("nan")
    lag_p99_ms: float = float("nan")
    audio_lag_p99_ms: float = float("nan")
    lost: int = 0
    duplicated: int = 0
    drained: bool = False
    max_backlog: int = 0
    drain_s: float = float("nan")  # load end → sealed, recordings complete, every consumer idle
    record_p99_ms: float = float("nan")  # the SDK's record() in the load generator
    record_max_ms: float = float("nan")
    window_s: float = float("nan")  # seconds of the step the lags are taken over (all N live)
    cpu: dict[str, float] = field(default_factory=dict)  # percent of one core
    cpu_ms_per_event: dict[str, float] = field(default_factory=dict)  # per component
    rss_mb: dict[str, float] = field(default_factory=dict)

    @property
    def sustained(self) -> bool:
        return (self.drained and self.lost == 0 and self.lag_p99_ms < 1000
                and self.audio_lag_p99_ms < 2000)


class Bench:
    def __init__(self, cfg: BenchConfig, say: Say) -> None:
        self.cfg, self.say = cfg, say
        self.stack = PrivateStack(cfg.home)
        self.logs = cfg.home / "bench-logs"
        self.meters = cfg.home / "bench-cpu"  # `run`'s per-consumer CPU (services/runner/cpu.py)
        self.run_id = secrets.token_hex(3)
        self.run_proc: subprocess.Popen[bytes] | None = None
        self.server_pids: dict[str, int] = {}
        self.lost = 0
        self.duplicated = 0

    # -- processes -------------------------------------------------------------------------
    async def start_pipeline(self, settings: Any) -> None:
        from services.platform.nats import connect
        from services.runner.main import stream_factories
        from services.runner.progress import consumer_lags

        # The sealer's durable shows it runs; projections follow the ledger (no durable) and
        # ``wait_caught_up`` waits for their positions.
        durables = set(CONSUMERS) & set(stream_factories())
        self.run_proc = self.stack.run(self.logs / "run.log",
                                       VOXLEDGER_CPU_METER_DIR=str(self.meters))
        nc = await connect(settings, name="voxledger-bench")
        try:
            deadline = time.monotonic() + 180
            while True:
                names = {lag.name for lag in await consumer_lags(nc, settings.stream_name)}
                if durables <= names:
                    return
                if self.run_proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("`voxledger run` did not start its consumers; see "
                                       f"{self.logs / 'run.log'}")
                await asyncio.sleep(0.5)
        finally:
            await nc.close()

    def stop_pipeline(self) -> None:
        if self.run_proc is not None:
            stop(self.run_proc)
            self.run_proc = None

    async def load(self, tenant: str, sessions: int, duration: float, fast: bool = False,
                   arrivals: float = 1.0) -> tuple[asyncio.subprocess.Process, Path]:
        ids = self.logs / f"{tenant}.ids"
        args = ["-m", "services.bench.load", "--tenant", tenant, "--sessions", str(sessions),
                "--duration", str(duration), "--ids", str(ids), "--arrivals", str(arrivals)
                ] + (["--fast"] if fast else [])
        with (self.logs / "load.log").open("ab") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *args, env=self.stack.env(), cwd=REPO,
                stdout=asyncio.subprocess.PIPE, stderr=err)
        return proc, ids

    @staticmethod
    async def load_result(proc: asyncio.subprocess.Process, ids: Path) -> tuple[dict[str, Any],
                                                                               list[str]]:
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"load generator exited {proc.returncode}")
        result = json.loads(out.decode().strip().splitlines()[-1])
        return result, [x for x in ids.read_text().split() if x]

    # -- measurements ------------------------------------------------------------------------
    async def ledger_check(self, engine: AsyncEngine, tenant: str, ids: list[str]
                           ) -> tuple[int, int]:
        async with engine.connect() as conn:
            sealed = [r[0] for r in await conn.execute(text(
                "SELECT event_id FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant})]
        return len(set(ids) - set(sealed)), len(sealed) - len(set(sealed))

    async def sealed_count(self, engine: AsyncEngine, tenant: str) -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(text(
                "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant})
            ).scalar_one())

    async def audio_state(self, engine: AsyncEngine, tenant: str) -> tuple[dict[str, int], int]:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT session_id, last_seq, status FROM audio_recordings "
                "WHERE tenant_id = :t AND kind = 'heard'"), {"t": tenant})).all()
        return {r[0]: int(r[1]) for r in rows}, sum(1 for r in rows if r[2] == "complete")

    async def step(self, engine: AsyncEngine, n: int, duration_s: float | None = None,
                   label: str = "n") -> StepResult:
        cfg = self.cfg
        tenant = f"bench-{self.run_id}-{label}{n}"
        res = StepResult(n, tenant)
        assert self.run_proc is not None
        watch = ProcWatch({**self.server_pids, "run": self.run_proc.pid})
        duration = duration_s or cfg.duration_s
        # The warm-up (its own duration) starts its sessions within a second.
        arrivals = cfg.arrivals_s if duration_s is None else 1.0
        proc, ids_path = await self.load(tenant, n, duration, arrivals=arrivals)
        watch.pids["load"] = proc.pid
        watch.start()
        meters = read_reports(self.meters)
        samples: list[tuple[float, dict[str, int]]] = []
        t0 = time.monotonic()
        last_say = t0
        total_expected: int | None = None
        result: dict[str, Any] = {}
        ids: list[str] = []
        drain_deadline = None
        load_end = 0.0
        while True:
            fed, complete = await self.audio_state(engine, tenant)
            samples.append((time.time(), fed))
            watch.sample()
            if proc.returncode is None and total_expected is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proc.wait()), 0.25)
            if proc.returncode is not None and total_expected is None:
                result, ids = await self.load_result(proc, ids_path)
                total_expected = len(ids)
                load_end = time.monotonic()
                drain_deadline = load_end + cfg.drain_timeout_s
            elif total_expected is not None:
                await asyncio.sleep(0.25)
            if time.monotonic() - last_say >= 3:
                last_say = time.monotonic()
                sealed = await self.sealed_count(engine, tenant)
                self.say(f"  N={n:<4} {time.monotonic() - t0:5.0f}s  sealed {sealed:>8}  "
                         f"audio fed {sum(max(0, v + 1) for v in fed.values()):>8}  "
                         f"recordings complete {complete}/{n}")
            if total_expected is not None:
                sealed = await self.sealed_count(engine, tenant)
                if sealed >= total_expected and complete >= n and await wait_caught_up(
                        self.stack.settings(), CONSUMERS, 0):
                    res.drained = True
                    res.drain_s = time.monotonic() - load_end
                    break
                if drain_deadline is not None and time.monotonic() > drain_deadline:
                    self.say(f"  N={n}: not drained {cfg.drain_timeout_s:.0f}s after the load "
                             "ended")
                    break
        wall = time.monotonic() - t0
        # `run` writes its meters every second: one more report, then both read together.
        await asyncio.sleep(1.2)
        watch.sample()
        res.events = int(result.get("events", 0))
        res.cpu_ms_per_event = cpu_ms_per_event(
            watch.usage, consumer_cpu(meters, read_reports(self.meters)), res.events)
        res.events_per_s = res.events / max(1e-6, float(result.get("elapsed_s", 1)))
        res.max_backlog = int(result.get("max_backlog", 0))
        res.record_p99_ms = float(result.get("record_p99_ms", float("nan")))
        res.record_max_ms = float(result.get("max_record_ms", float("nan")))
        res.cpu = {k: 100 * u.cpu_s / wall for k, u in watch.usage.items()}
        res.rss_mb = {k: u.peak_rss / 2**20 for k, u in watch.usage.items()}
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT session_id, seq, extract(epoch FROM recorded_at), "
                "extract(epoch FROM sealed_at - recorded_at) FROM ledger_entries "
                "WHERE tenant_id = :t"), {"t": tenant})).all()
            done = {r[0]: float(r[1]) for r in await conn.execute(text(
                "SELECT session_id, extract(epoch FROM completed_at) FROM audio_recordings "
                "WHERE tenant_id = :t AND kind = 'heard' AND completed_at IS NOT NULL"),
                {"t": tenant})}
        # While all N calls are live (the whole step when they start within a second).
        lo, hi = float("-inf"), float("inf")
        if 1.0 < arrivals < duration and "started_at" in result:
            lo = float(result["started_at"]) + arrivals
            hi = float(result["started_at"]) + duration
        res.window_s = hi - lo if hi < float("inf") else duration
        rows = [r for r in rows if lo <= float(r[2]) < hi]
        if hi < float("inf"):  # the offered rate while all N are live
            res.events_per_s = len(rows) / (hi - lo)
        lags = [float(r[3]) for r in rows]
        entries: dict[str, list[tuple[int, float]]] = {}
        for r in rows:
            entries.setdefault(r[0], []).append((int(r[1]), float(r[2])))
        res.lag_p50_ms = 1000 * percentile(lags, 50)
        res.lag_p99_ms = 1000 * percentile(lags, 99)
        res.audio_lag_p99_ms = 1000 * percentile(audio_lags(samples, entries, done), 99)
        res.lost, res.duplicated = await self.ledger_check(engine, tenant, ids)
        self.lost += res.lost
        self.duplicated += res.duplicated
        return res
