"""CPU of the redaction projection per ledger event, on the bench's traffic (a measurement).

    VOXLEDGER_HOME=... .venv/bin/python bench/redaction_cpu.py [--sessions 6] [--duration 25]
        [--waves 1] [--profile FILE] [--top 25]

Two processes on a fresh tenant of the stack ``VOXLEDGER_HOME`` points at:

- the feed: the bench's load (``services.bench.load.run_load``, real time: sessions grow in 20 ms
  frames, ``session.ended`` last), sealed by an in-process partition sealer and followed by a
  private ``transcripts`` projection (redaction reads its rows); ``--waves`` runs the load that
  many times in a row (sessions of a wave end while the next wave's are live, as in a long run);
- the meter: a private ``redaction`` projection of that tenant, followed live (LISTEN, linger,
  polls) by its :class:`~services.ledger.follower.Follower` from before the load starts until
  every session is redacted. Its CPU (``time.process_time`` of this process after the worker's
  ``warm_up``, whatever that loads: the follower's reads, handle, maintain, the redactions and
  garbage collections, not the Postgres server; this script's own once-a-second check is
  subtracted) is divided by the tenant's ledger entries, as the bench's CPU table divides a
  component's CPU by the events of a step. Printed per wave too, with the CPU inside each hook
  and in the garbage collector.

``--profile FILE``: the meter also runs under cProfile (blocking calls the worker hands to a
thread run inline so they are profiled) and prints the top functions by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import os
import pstats
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from services.platform.db import make_async_engine
from services.platform.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


async def feed(tenant: str, sessions: int, duration: float, waves: int, until: Path) -> None:
    from services.bench.load import run_load
    from services.runner.main import make_follower
    from services.transcripts.consumer import make_transcripts
    from tests.integration.ledger_helpers import TenantSealer

    settings = load_settings()
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    engine = make_async_engine(settings)
    transcripts = make_transcripts(settings, tenant=tenant)
    transcripts.name = f"transcripts-cpu-{tenant}"
    follower = make_follower(settings, engine, transcripts)
    task = asyncio.create_task(follower.run())
    try:
        events = 0
        for wave in range(waves):
            # A wave's sessions get their own ids: the bench's names plus the wave.
            result = await run_load(settings, tenant, sessions, duration, realtime=True)
            events += int(result["events"])
            print(json.dumps({"wave": wave, "events": result["events"]}), flush=True)
            if wave + 1 < waves:
                await _rename_next(tenant, wave + 1)
        await sealer.wait_for(events)
        deadline = time.monotonic() + 600
        while not until.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
    finally:
        follower.stop()
        await asyncio.wait_for(task, 120)
        await transcripts.close()
        await engine.dispose()
        await sealer.stop()
        await sealer.close()


async def _rename_next(tenant: str, wave: int) -> None:
    """The load names sessions ``bench-NNNN``: a later wave needs other ids."""
    import services.bench.load as load

    original = getattr(load, "_original_session", None)
    if original is None:
        original = load.Recorder.session
        load._original_session = original  # type: ignore[attr-defined]

    def session(self: Any, session_id: str, *args: Any, **kwargs: Any) -> Any:
        return original(self, f"{session_id}-w{wave}", *args, **kwargs)

    load.Recorder.session = session  # type: ignore[method-assign]


class Meter:
    """process_time spent inside each hook of the worker."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - t0
                self.calls[name] = self.calls.get(name, 0) + 1
        return timed


async def meter(tenant: str, per_wave: int, n_waves: int, until: Path, profile: Path | None,
                top: int) -> None:
    import services.redaction.worker as worker_mod
    from services.platform.keys import LocalKeyProvider
    from services.redaction.engine import shared_engine
    from services.redaction.worker import RedactionWorker
    from services.runner.main import make_follower

    settings = load_settings()
    worker = RedactionWorker(shared_engine(settings.spacy_model, settings.redaction_batch_size),
                             LocalKeyProvider.from_file(settings.keyring_path), tenant=tenant)
    worker.name = f"redaction-cpu-{tenant}"
    worker.warm_up()
    m = Meter()
    worker.handle = m.wrap("handle", worker.handle)  # type: ignore[method-assign]
    worker.maintain = m.wrap("maintain", worker.maintain)  # type: ignore[method-assign]
    worker_mod.redact = m.wrap("redact", worker_mod.redact)  # type: ignore[assignment]
    engine = make_async_engine(settings)
    follower = make_follower(settings, engine, worker)
    prof = None
    if profile is not None:
        async def inline(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)
        asyncio.to_thread = inline  # type: ignore[assignment]
        prof = cProfile.Profile(time.process_time)  # CPU, not wall (a shared machine)
    gc_cpu = {0: 0.0, 1: 0.0, 2: 0.0}
    gc_runs = {0: 0, 1: 0, 2: 0}
    gc_t0 = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_t0[0] = time.process_time()
        else:
            gc_cpu[info["generation"]] += time.process_time() - gc_t0[0]
            gc_runs[info["generation"]] += 1

    gc.callbacks.append(on_gc)
    print("ready", flush=True)
    t0 = time.process_time()
    if prof is not None:
        prof.enable()
    task = asyncio.create_task(follower.run())
    check = make_async_engine(settings)
    checking = 0.0  # this loop's own CPU, not the worker's
    waves: list[dict[str, Any]] = []  # CPU and events each time a wave's sessions are done
    try:
        while True:
            await asyncio.sleep(1.0)
            c0 = time.process_time()
            async with check.connect() as conn:
                redacted, events = (await conn.execute(text(
                    "SELECT (SELECT count(*) FROM redaction_sessions WHERE tenant_id = :t "
                    "AND redacted_at IS NOT NULL), (SELECT count(*) FROM ledger_entries "
                    "WHERE tenant_id = :t)"), {"t": tenant})).one()
            checking += time.process_time() - c0
            if redacted >= per_wave * (len(waves) + 1):
                waves.append({"cpu_s": time.process_time() - t0 - checking,
                              "events": int(events), "redacted": int(redacted)})
            if redacted >= per_wave * n_waves:
                break
            if task.done():
                task.result()
    finally:
        if prof is not None:
            prof.disable()
        follower.stop()
        await asyncio.wait_for(task, 120)
        until.touch()
    await check.dispose()
    await engine.dispose()
    last = waves[-1]
    cpu, events = last["cpu_s"], last["events"]
    steps = []
    prev = {"cpu_s": 0.0, "events": 0}
    for w in waves:
        d_cpu, d_ev = w["cpu_s"] - prev["cpu_s"], w["events"] - prev["events"]
        steps.append({"events": d_ev, "cpu_s": round(d_cpu, 3),
                      "ms_per_event": round(1000 * d_cpu / max(1, d_ev), 4)})
        prev = w
    print(json.dumps({
        "tenant": tenant, "sessions": per_wave * n_waves, "events": events,
        "cpu_s": round(cpu, 3), "ms_per_event": round(1000 * cpu / max(1, events), 4),
        "waves": steps, "rounds": follower.stats.batches, "applied": follower.stats.delivered,
        "hooks_cpu_s": {k: round(v, 3) for k, v in m.cpu.items()}, "hook_calls": m.calls,
        "gc_cpu_s": {g: round(v, 3) for g, v in gc_cpu.items()}, "gc_runs": gc_runs,
    }), flush=True)
    if prof is not None:
        assert profile is not None
        prof.dump_stats(str(profile))
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(top)
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("role", nargs="?", choices=["feed", "meter"], default=None)
    ap.add_argument("--tenant")
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--duration", type=float, default=25.0)
    ap.add_argument("--waves", type=int, default=1)
    ap.add_argument("--until", type=Path)
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    if args.role == "feed":
        asyncio.run(feed(args.tenant, args.sessions, args.duration, args.waves, args.until))
        return
    if args.role == "meter":
        asyncio.run(meter(args.tenant, args.sessions, args.waves, args.until, args.profile,
                          args.top))
        return
    tenant = "t-rcpu-" + secrets.token_hex(4)
    until = Path(f"/tmp/redaction-cpu-{tenant}.done")
    common = ["--tenant", tenant, "--sessions", str(args.sessions), "--until", str(until),
              "--waves", str(args.waves)]
    me = [sys.executable, str(Path(__file__).resolve())]
    extra = ["--profile", str(args.profile), "--top", str(args.top)] if args.profile else []
    m = subprocess.Popen([*me, "meter", *common, *extra], cwd=ROOT, stdout=subprocess.PIPE,
                         text=True, env=os.environ)
    assert m.stdout is not None
    line = m.stdout.readline()
    if line.strip() != "ready":
        sys.exit(f"meter did not start: {line!r}")
    f = subprocess.Popen([*me, "feed", *common, "--duration", str(args.duration)], cwd=ROOT,
                         env=os.environ)
    try:
        for line in m.stdout:
            print(line, end="", flush=True)
        m.wait()
        f.wait(timeout=300)
    finally:
        for p in (f, m):
            if p.poll() is None:
                p.terminate()
        with contextlib.suppress(FileNotFoundError):
            until.unlink()


if __name__ == "__main__":
    main()
