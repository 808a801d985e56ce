"""Live lag of a ledger projection behind the sealer, and its CPU per event (a measurement).

    .venv/bin/python bench/projection_lag.py [--events 60] [--gap 0.2] [--bulk-sessions 3]

Live: one event is published every ``--gap`` seconds to a fresh tenant and sealed by an
in-process partition sealer; a LISTEN of this script's own timestamps each ``NOTIFY`` (the
sealer's commit), and the catalog projection, followed by its
:class:`~services.ledger.follower.Follower`, timestamps each batch it applies. Lag = a batch's
apply time - the last commit notified before it (p50, p99, max over batches).

Bulk: simulated sessions of every provider are sealed first, then the catalog and transcripts
projections each catch up alone; CPU seconds of this process (the follower: read, decrypt,
decode, apply; not the Postgres server) over the events applied.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import Provider
from services.ledger.catalog import SessionCatalog
from services.ledger.follower import Follower
from services.ledger.reader import SealedEvent
from services.ledger.repository import NOTIFY_CHANNEL
from services.platform.db import make_async_engine
from services.platform.settings import load_settings
from services.recorder import Recorder
from services.runner.main import make_follower
from services.simulator import simulate
from services.transcripts.consumer import make_transcripts
from tests.integration.ledger_helpers import TenantSealer


class Timed(SessionCatalog):
    def __init__(self, tenant: str) -> None:
        super().__init__(tenant=tenant)
        self.name = f"lag-{tenant}"
        self.applied: list[float] = []  # one time per applied batch
        self.events = 0

    async def handle(self, conn: AsyncConnection, batch: list[SealedEvent]) -> None:
        await super().handle(conn, batch)
        self.applied.append(time.monotonic())
        self.events += len(batch)


async def live(settings: Any, events: int, gap: float) -> None:
    tenant = "t-lag-" + secrets.token_hex(4)
    engine = make_async_engine(settings)
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    committed: list[float] = []
    listen = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    await listen.execute(f"LISTEN {NOTIFY_CHANNEL}")

    async def notes() -> None:
        async for n in listen.notifies():
            if n.payload == tenant:
                committed.append(time.monotonic())

    listener = asyncio.create_task(notes())
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    projection = Timed(tenant)
    follower = make_follower(settings, engine, projection)
    task = asyncio.create_task(follower.run())
    rec = await Recorder.connect(settings, tenant)
    try:
        await asyncio.sleep(1.0)
        async with rec.session("s-lag", Provider.CUSTOM) as s:
            for k in range(events - 2):  # + session.started and session.ended
                await s.server({"type": "transcript.final", "text": f"w{k}"})
                await asyncio.sleep(gap)
        deadline = time.monotonic() + 60
        while projection.events < events and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        await rec.close()
        follower.stop()
        await task
        await sealer.stop()
        await sealer.close()
        listener.cancel()
        await listen.close()
        await engine.dispose()
    # Each applied batch against the last commit notified before it (what woke the follower).
    lags = sorted((a - max(c for c in committed if c <= a)) * 1000 for a in projection.applied
                  if any(c <= a for c in committed))
    if not lags:
        print("live: nothing measured")
        return
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    print(f"live: {projection.events} events in {len(lags)} batches after {len(committed)} "
          f"sealer commits; sealed->projected lag ms p50 {statistics.median(lags):.1f} "
          f"p99 {p99:.1f} max {lags[-1]:.1f}")


async def bulk(settings: Any, sessions: int) -> None:
    tenant = "t-cpu-" + secrets.token_hex(4)
    sims = await simulate(settings, "all", sessions, 7, tenant)
    published = sum(s.events for s in sims)
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    await sealer.wait_for(published, timeout=900)
    await sealer.stop()
    await sealer.close()
    engine = make_async_engine(settings)
    try:
        for projection in (SessionCatalog(tenant=tenant), make_transcripts(settings,
                                                                           tenant=tenant)):
            projection.name = f"cpu-{projection.name}-{tenant}"
            f: Follower = make_follower(settings, engine, projection)
            cpu0, wall0 = time.process_time(), time.monotonic()
            while await f.round():
                await projection.maintain(engine)
            await projection.maintain(engine)
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            print(f"bulk {projection.name.split('-')[1]}: {f.stats.delivered} events, "
                  f"{cpu / f.stats.delivered * 1000:.3f} ms CPU/event (follower process), "
                  f"{f.stats.delivered / wall:.0f} events/s wall")
    finally:
        await engine.dispose()


async def main(a: argparse.Namespace) -> None:
    settings = load_settings()
    await live(settings, a.events, a.gap)
    if a.bulk_sessions:
        await bulk(settings, a.bulk_sessions)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=60)
    p.add_argument("--gap", type=float, default=0.2)
    p.add_argument("--bulk-sessions", type=int, default=1)
    asyncio.run(main(p.parse_args()))
