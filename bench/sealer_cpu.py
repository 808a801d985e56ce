"""The sealer's CPU per sealed event on the shared stack (a measurement, not a test).

    VOXLEDGER_HOME=... .venv/bin/python bench/sealer_cpu.py [--sessions 6] [--seconds 30]
        [--mode live|backlog|pure] [--sections [fine]] [--profile out.prof] [--top 40]

Publishes the benchmark's load (``services/bench/load.py``: OpenAI GA sessions, 20 ms PCM16
frames both ways, batched at the tap) under a fresh tenant of the stack in ``.voxledger/env``
and seals it with a tenant-partitioned :class:`~services.ledger.sealer.Sealer` driven by the
:class:`~services.platform.consumer.PullConsumer` on the asyncpg engine, as ``voxledger run``
does.

- ``live``: the load runs in real time in its own process (its CPU is not counted) while the
  sealer follows it, so batches are as small as in ``make bench`` (about ``linger`` seconds of
  traffic each) and the per-batch costs weigh as they do there;
- ``backlog``: the load is published first (fast mode), then drained in full batches;
- ``pure``: no servers: the benchmark session's frames as batch messages of the live shape
  (``--sessions`` sessions, 5 frames per message, ``--batch-events`` events per fetch) through
  the sealer's per-event work alone: intake decode (``decode_items``) and ``plan_batch``
  (``--rounds`` times; the figure is the best round's CPU per event).

CPU is this process's ``time.process_time`` (every thread: S3 puts and thread-pool work count)
from the consumer's start to the last sealed event, divided by the events sealed. Figures move
with the batch size (``events_per_batch``, set by the load and how busy the machine is): compare
runs of similar batch sizes. ``--sections`` adds the CPU of each part of the work (consumer,
transaction, each repository call, ``plan_batch``, S3 puts, garbage collection; ``fine``: inside
``plan_batch`` too), measured by wrapping those functions. ``--profile`` adds a cProfile of the
same span on the loop thread's CPU clock (much slower, so batches grow: read it for where the
time goes, not for the figure).

Sealed entries stay in the stack's ledger under a tenant ``sc-<hex>``, as other benches' do.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import inspect
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.batch import batch_headers, batch_id, batch_subject, encode_batch
from schemas.envelope import Direction, Envelope, Limits, Provider, encode_envelope
from services.bench.load import plan_session, run_load
from services.ledger.sealer import Sealer, make_sealer
from services.ledger.sealing import Fresh, group_by_tenant, plan_batch
from services.platform.consumer import PullConsumer
from services.platform.db import make_async_engine
from services.platform.intake import decode_items
from services.platform.keys import new_dek
from services.platform.nats import connect
from services.platform.settings import Settings, load_settings
from services.runner.main import SEALER_DRIVER, consumer_options

DRAIN_TIMEOUT_S = 900.0
FRAMES_PER_MESSAGE = 5  # 50 ms of 20 ms frames both ways: the recorder's linger at the tap


@dataclass
class _Seq:
    stream: int


@dataclass
class _Meta:
    sequence: _Seq


@dataclass
class _Msg:
    """What :func:`decode_items` reads of a fetched JetStream message."""

    subject: str
    data: bytes
    headers: dict[str, str]
    metadata: _Meta


def _uuid7() -> str:
    raw = bytearray(uuid.uuid4().bytes)
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


class Sections:
    """CPU (``process_time``) per named section of the sealer's work, by wrapping functions.

    Valid here because the consumer is the process's only busy task: the CPU between a
    coroutine's start and end is its own (and its thread-pool calls'). Sections nest."""

    def __init__(self, fine: bool = False) -> None:
        self.fine = fine
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._gc_at = 0.0

    def wrap(self, owner: object, attr: str, name: str) -> None:
        fn = getattr(owner, attr)
        cpu, wall, calls = self.cpu, self.wall, self.calls
        cpu[name], wall[name], calls[name] = 0.0, 0.0, 0

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def timed_async(*a: object, **k: object) -> object:
                c0, w0 = time.process_time(), time.perf_counter()
                try:
                    return await fn(*a, **k)
                finally:
                    cpu[name] += time.process_time() - c0
                    wall[name] += time.perf_counter() - w0
                    calls[name] += 1
            setattr(owner, attr, timed_async)
        else:
            @functools.wraps(fn)
            def timed(*a: object, **k: object) -> object:
                c0, w0 = time.process_time(), time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    cpu[name] += time.process_time() - c0
                    wall[name] += time.perf_counter() - w0
                    calls[name] += 1
            setattr(owner, attr, timed)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_at = time.process_time()
        else:
            name = f"gc (generation {info['generation']})"
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - self._gc_at
            self.wall.setdefault(name, 0.0)
            self.calls[name] = self.calls.get(name, 0) + 1

    def install(self) -> None:
        gc.callbacks.append(self._gc)
        from nats.js.client import JetStreamContext

        import services.ledger.repository as repo
        import services.ledger.sealer as sealer_mod
        import services.platform.consumer as consumer_mod

        self.wrap(JetStreamContext.PullSubscription, "fetch", "nats fetch")
        self.wrap(consumer_mod, "decode_items", "intake decode")
        self.wrap(PullConsumer, "_process", "batch (decode, commit, ack)")
        self.wrap(PullConsumer, "_commit", "transaction (all)")
        self.wrap(consumer_mod, "advance_from", "  progress (own statement)")
        self.wrap(PullConsumer, "_maintain", "maintain (all)")
        self.wrap(Sealer, "flush_worm", "  flush_worm")
        self.wrap(Sealer, "handle_and_advance", "  sealer.handle")
        import services.ledger.batch_repository as batch_repo

        for f in ("open_batch", "open_batch_slowly", "add_sessions", "finish_batch"):
            self.wrap(batch_repo, f, f"    batch_repo.{f}")
        for f in ("copy_entries", "insert_subjects", "insert_checkpoint"):
            self.wrap(repo, f, f"    repo.{f}")
        self.wrap(sealer_mod, "plan_batch", "    plan_batch")
        if self.fine:
            import services.ledger.sealing as sealing_mod
            self.wrap(sealing_mod, "_lay_out", "      parts (compress, encrypt)")
            self.wrap(sealing_mod, "find_audio", "      find_audio")
            self.wrap(sealing_mod, "replace_fields", "      replace_fields")
            self.wrap(sealing_mod, "split_subjects", "      split_subjects")
            self.wrap(sealing_mod, "_canonical_payload", "      payload JSON")
            from services.ledger import payloads
            self.wrap(payloads, "seal_payload", "      seal_payload")
            self.wrap(sealing_mod, "leaf_hash_of", "      leaf_hash_of")
        from services.ledger.storage import LedgerStorage
        self.wrap(LedgerStorage, "put_segment", "    s3 put_segment (thread)")
        self.wrap(LedgerStorage, "put_checkpoint", "    s3 put_checkpoint (thread)")

    def table(self, events: int) -> dict[str, dict[str, float]]:
        # Wall per call: each awaited section's round trips (the consumer is the loop's only
        # busy task, so its wall time is its own waits and work).
        return {n: {"calls": self.calls[n], "ms_per_event": round(c * 1000 / events, 4),
                    "wall_ms_per_call": round(self.wall[n] * 1000 / max(1, self.calls[n]), 3)}
                for n, c in self.cpu.items()}


def pure_messages(tenant: str, sessions: int, events: int) -> list[_Msg]:
    """``events`` events of ``sessions`` benchmark sessions as the recorder batches them live."""
    frames = [f for f in plan_session("bench:0", 60.0).frames if f.direction != "system"]
    t0 = datetime.now(UTC)
    msgs: list[_Msg] = []
    seq = [0] * sessions
    k = 0
    while k < events:
        s = len(msgs) % sessions
        members = []
        for _ in range(min(FRAMES_PER_MESSAGE, events - k)):
            f = frames[seq[s] % len(frames)]
            members.append(Envelope(
                event_id=_uuid7(), tenant_id=tenant, session_id=f"s-{s}", seq=seq[s],
                provider=Provider.OPENAI_REALTIME, direction=Direction(f.direction),
                type=str(f.payload.get("type", "x")),
                recorded_at=t0 + timedelta(milliseconds=20 * seq[s]),
                mono_ns=20_000_000 * seq[s], payload=f.payload))
            seq[s] += 1
            k += 1
        body = encode_batch([encode_envelope(e) for e in members])
        msgs.append(_Msg(batch_subject("voice", tenant, f"s-{s}"), body,
                         batch_headers(batch_id([e.event_id for e in members]), len(members)),
                         _Meta(_Seq(len(msgs) + 1))))
    return msgs


def pure(args: argparse.Namespace) -> dict[str, object]:
    tenant = "bench-pure"
    msgs = pure_messages(tenant, args.sessions, args.batch_events)
    deks = {f"s-{s}": new_dek() for s in range(args.sessions)}
    limits = Limits()
    prof = cProfile.Profile() if args.profile else None
    decode_ms, plan_ms = [], []
    for _ in range(args.rounds):
        c0 = time.process_time()
        if prof:
            prof.enable()
        items = [i for m in msgs for i in decode_items(m, limits)]  # type: ignore[arg-type]
        c1 = time.process_time()
        fresh = [Fresh(d.stream_seq, d.subject, d.envelope, d.member)
                 for d in sorted((i.delivered for i in items if i.delivered),
                                 key=lambda d: d.key)]
        for t, part in group_by_tenant(fresh).items():
            plan_batch(t, part, 0, deks, {}, lambda n: n)
        if prof:
            prof.disable()
        c2 = time.process_time()
        decode_ms.append((c1 - c0) * 1000 / len(items))
        plan_ms.append((c2 - c1) * 1000 / len(items))
    if prof:
        prof.dump_stats(args.profile)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(args.top)
    return {"mode": "pure", "sessions": args.sessions, "batch_events": args.batch_events,
            "messages": len(msgs), "decode_ms_per_event": round(min(decode_ms), 4),
            "plan_ms_per_event": round(min(plan_ms), 4),
            "pure_ms_per_event": round(min(d + p for d, p in zip(decode_ms, plan_ms,
                                                                  strict=True)), 4),
            "profiled": bool(prof)}


async def _until(sealer: Sealer, events: asyncio.Future[int]) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while not events.done() or sealer.sealed < events.result():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sealer.sealed} sealed")
        await asyncio.sleep(0.02)


async def _live_load(settings: Settings, tenant: str, sessions: int, seconds: float) -> int:
    ids = Path(tempfile.mkdtemp(prefix="sealer-cpu-")) / "ids"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.bench.load", "--tenant", tenant, "--sessions",
        str(sessions), "--duration", str(seconds), "--ids", str(ids),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=str(Path(__file__).resolve().parents[1]), env=os.environ.copy())
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"load exited {proc.returncode}")
    return int(json.loads(out.decode().strip().splitlines()[-1])["events"])


async def measure(args: argparse.Namespace) -> dict[str, object]:
    settings = load_settings()
    tenant = f"sc-{secrets.token_hex(4)}"
    loop = asyncio.get_running_loop()
    events: asyncio.Future[int] = loop.create_future()
    if args.mode == "backlog":
        load = await run_load(settings, tenant, args.sessions, args.seconds, realtime=False)
        events.set_result(int(load["events"]))
    nc = await connect(settings, name="bench-sealer-cpu")
    engine = make_async_engine(settings, pool_size=3, driver=SEALER_DRIVER)
    base = make_sealer(settings)
    sealer = Sealer(settings, base.keys, base.storage, tenant=tenant, signer=base.signer)
    consumer = PullConsumer(nc, engine, settings.stream_name, sealer, batch_size=args.batch,
                            linger=args.linger, **consumer_options(settings))
    # The loop thread's CPU clock: idle waits (epoll) and GIL waits cost nothing here.
    prof = cProfile.Profile(time.thread_time) if args.profile else None
    sections = Sections(args.sections == "fine") if args.sections else None
    if sections:
        sections.install()
    loader = None
    if args.mode == "live":
        loader = asyncio.create_task(_live_load(settings, tenant, args.sessions, args.seconds))
        loader.add_done_callback(lambda t: events.set_result(t.result()) if not t.exception()
                                 else events.set_exception(t.exception()))  # type: ignore[arg-type]
    if args.freeze:  # what voxledger run does once its consumers are warm
        gc.collect()
        gc.freeze()
    c0, w0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    task = asyncio.create_task(consumer.run())
    try:
        await _until(sealer, events)
        if prof:
            prof.disable()
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)
        await sealer.close()
        await nc.close()
        await engine.dispose()
    n = events.result()
    report: dict[str, object] = {
        "mode": args.mode, "sessions": args.sessions, "seconds": args.seconds,
        "events": n, "sealed": sealer.sealed, "batches": consumer.stats.batches,
        "events_per_batch": round(n / max(1, consumer.stats.batches), 1),
        "dead_lettered": consumer.stats.dead_lettered,
        "cpu_ms_per_event": round(cpu * 1000 / n, 4), "wall_s": round(wall, 1),
        "profiled": bool(prof)}
    if sections:
        report["sections"] = sections.table(n)
        for name, row in report["sections"].items():  # type: ignore[attr-defined]
            print(f"{name:34} {row['calls']:6d} calls {row['ms_per_event']:.4f} ms/event "
                  f"{row['wall_ms_per_call']:8.3f} ms wall/call", file=sys.stderr)
    if prof:
        prof.dump_stats(args.profile)
        stats = pstats.Stats(prof, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumtime").print_stats(args.top)
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--mode", choices=("live", "backlog", "pure"), default="live")
    ap.add_argument("--batch", type=int, default=500, help="the sealer's batch (run: 500)")
    ap.add_argument("--profile", default="", help="write a cProfile here and print its top")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--sections", nargs="?", const="coarse", choices=("coarse", "fine"),
                    help="CPU per section of the work (fine: inside plan_batch too)")
    ap.add_argument("--linger", type=float, default=0.1, help="the consumer's (run: 0.1 s)")
    ap.add_argument("--freeze", action="store_true", help="gc.freeze() before sealing")
    ap.add_argument("--batch-events", type=int, default=60, help="pure: events per fetch")
    ap.add_argument("--rounds", type=int, default=20, help="pure: repetitions")
    args = ap.parse_args()
    report = pure(args) if args.mode == "pure" else asyncio.run(measure(args))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
