"""The raw-stream sealer's consumer loop, own vs FastStream, side by side (a measurement, not a test).

    .venv/bin/python bench/consumer_loop.py [--sessions 4] [--seconds 30] [--rounds 3] [--batch 500]

On a private stack (``services/bench/private.py``, under ``.voxledger-bench-consumer/``), each
round publishes the benchmark's load (``run_load``, fast mode: OpenAI GA sessions, 20 ms PCM16
frames both ways) once per variant, each under a tenant of its own, then drains it with a
tenant-partitioned :class:`~services.ledger.sealer.Sealer` driven by:

- ``own``: :class:`~services.platform.consumer.PullConsumer` (ordered mode, as ``voxledger run``);
- ``faststream``: a FastStream ``NatsBroker`` pull subscriber (``PullSub(batch=True)``, manual
  ack, a decoder that hands the raw messages over) calling the same batch work: decode and
  isolate (``decode_items``, ``bisect_apply``), the sealer's transaction with the progress row,
  ack after commit, then the handler's ``maintain``. What it does not do is the own loop's
  ordered-mode recovery (delivery-sequence check, re-creating the consumer from the committed
  position): the FastStream side is the cheaper of the two by that much.

Both run on a psycopg engine (``own-asyncpg`` adds the driver ``voxledger run`` gives the
sealer), so only the loop differs between ``own`` and ``faststream``.

CPU is this process's (``time.process_time``: every thread, so the sealer's S3 puts and
AES-GCM count) from the first fetch to the last sealed event, divided by the events sealed.
The variants alternate which goes first each round; the median per variant is reported with
the overhead of FastStream over the own loop (the 5% rule of issue 13 item 7). ``own-asyncpg``
(``--variants own,faststream,own-asyncpg``) is the own loop with the engine on asyncpg (the
sealer's SQL and ``copy_records_to_table``) instead of psycopg.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.security import NatsUserPassword
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.bench.load import run_load
from services.bench.private import PrivateStack
from services.ledger.sealer import Sealer, make_sealer
from services.platform.consumer import ACK_WAIT_S, PullConsumer
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.settings import Settings
from services.runner.main import consumer_options

DRAIN_TIMEOUT_S = 600.0


def _sealer(settings: Settings, tenant: str) -> Sealer:
    base = make_sealer(settings)
    return Sealer(settings, base.keys, base.storage, tenant=tenant, signer=base.signer)


async def _until_sealed(sealer: Sealer, events: int) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while sealer.sealed < events:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{sealer.name}: {sealer.sealed} of {events} sealed")
        await asyncio.sleep(0.02)


async def _own(settings: Settings, tenant: str, events: int, batch: int, driver: str = "psycopg"
               ) -> tuple[float, float]:
    nc = await connect(settings, name="bench-own")
    engine = make_async_engine(settings, driver=driver)
    sealer = _sealer(settings, tenant)
    consumer = PullConsumer(nc, engine, settings.stream_name, sealer, batch_size=batch,
                            **consumer_options(settings))
    c0, w0 = time.process_time(), time.perf_counter()
    task = asyncio.create_task(consumer.run())
    try:
        await _until_sealed(sealer, events)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)
        await sealer.close()
        await nc.close()
        await engine.dispose()
    return cpu, wall


async def _faststream(settings: Settings, tenant: str, events: int, batch: int
                      ) -> tuple[float, float]:
    nc = await connect(settings, name="bench-faststream-acks")  # unused by the loop itself
    engine = make_async_engine(settings)
    sealer = _sealer(settings, tenant)
    # The batch work (decode, isolate, commit with progress, ack) of the same class, without its
    # fetch loop: only the loop differs between the variants.
    work = PullConsumer(nc, engine, settings.stream_name, sealer, batch_size=batch,
                        **consumer_options(settings))
    # Its per-message access log at DEBUG (under the INFO the services run at): the own loop
    # logs nothing per batch either.
    broker = NatsBroker(settings.nats_url, log_level=logging.DEBUG, security=NatsUserPassword(
        settings.nats_user or "", settings.nats_password.get_secret_value()
        if settings.nats_password else ""))

    async def raw(msg: Any) -> Any:
        return msg.raw_message  # the nats-py messages: decode_items parses and bounds them

    async def seal(body: Any) -> None:
        await work._process(body)
        await work._maintain()

    broker.subscriber(
        sealer.filter_subjects[0], stream=JStream(settings.stream_name, declare=False),
        durable=sealer.name, decoder=raw, ack_policy=AckPolicy.MANUAL,
        pull_sub=PullSub(batch_size=batch, timeout=0.5, batch=True),
        config=ConsumerConfig(ack_policy=JsAckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
                              ack_wait=ACK_WAIT_S, max_ack_pending=20_000, max_deliver=-1),
    )(seal)
    c0, w0 = time.process_time(), time.perf_counter()
    await broker.start()
    try:
        await _until_sealed(sealer, events)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    finally:
        await broker.stop()
        await sealer.close()
        await nc.close()
        await engine.dispose()
    return cpu, wall


async def measure(settings: Settings, sessions: int, seconds: float, rounds: int, batch: int,
                  log: Callable[[str], None], names: list[str]) -> dict[str, Any]:
    every: dict[str, Callable[[Settings, str, int, int], Awaitable[tuple[float, float]]]] = {
        "own": _own, "faststream": _faststream,
        "own-asyncpg": lambda s, t, e, b: _own(s, t, e, b, driver="asyncpg")}
    variants = {v: every[v] for v in names}
    per_event: dict[str, list[float]] = {v: [] for v in variants}
    rates: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(rounds):
        order = list(variants)[r % len(variants):] + list(variants)[:r % len(variants)]
        for name in order:
            tenant = f"bc-{name[:2]}-{r}-{secrets.token_hex(3)}"
            load = await run_load(settings, tenant, sessions, seconds, realtime=False)
            events = int(load["events"])
            cpu, wall = await variants[name](settings, tenant, events, batch)
            per_event[name].append(cpu * 1000 / events)
            rates[name].append(events / wall)
            log(f"round {r + 1} {name:10} {events} events: {cpu * 1000 / events:.3f} CPU ms/event, "
                f"{events / wall:,.0f} events/s")
    med = {v: statistics.median(x) for v, x in per_event.items()}
    overhead = {v: round((m - med["own"]) / med["own"] * 100, 1) for v, m in med.items()
                if v != "own"}
    # Round by round (the variants of one round ran back to back, under the same load).
    paired = {v: round(statistics.median(x / o - 1 for x, o in zip(xs, per_event["own"],
                                                                     strict=True)) * 100, 1)
              for v, xs in per_event.items() if v != "own"}
    return {"batch": batch, "sessions": sessions, "seconds": seconds, "rounds": rounds,
            "cpu_ms_per_event": {v: round(m, 4) for v, m in med.items()},
            "events_per_s": {v: round(statistics.median(x)) for v, x in rates.items()},
            "runs_cpu_ms_per_event": {v: [round(x, 4) for x in xs] for v, xs in per_event.items()},
            "pct_over_own": overhead, "pct_over_own_paired_median": paired}


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO)
    stack = PrivateStack(Path(args.home))
    settings = stack.up()
    try:
        report = await measure(settings, args.sessions, args.seconds, args.rounds, args.batch,
                               lambda line: print(line, file=sys.stderr, flush=True),
                               ["own", *[v for v in args.variants.split(",") if v != "own"]])
    finally:
        if not args.keep:
            stack.down()
    for name, ms in report["cpu_ms_per_event"].items():
        versus = "" if name == "own" else (
            f" ({report['pct_over_own'][name]:+.1f}% over own; round by round, median "
            f"{report['pct_over_own_paired_median'][name]:+.1f}%)")
        print(f"{name:12} {ms:.3f} CPU ms/event{versus}")
    print("the rule (issue 13 item 7): FastStream more than +5% over own keeps the own loop")
    print(json.dumps(report))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=500, help="the sealer's batch (voxledger run: 500)")
    ap.add_argument("--variants", default="own,faststream",
                    help="own,faststream[,own-asyncpg] (the own loop on an asyncpg engine)")
    ap.add_argument("--home", default=".voxledger-bench-consumer")
    ap.add_argument("--keep", action="store_true", help="leave the private stack up")
    asyncio.run(main(ap.parse_args()))
