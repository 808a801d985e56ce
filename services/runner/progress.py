"""How far behind each consumer is: the basis of ``voxledger wait``.

The sealer is behind the raw stream (JetStream's pending and unacked counts of its durable);
a projection is behind the sealed ledger (each tenant's head minus its stored position,
``services/ledger/follower.py``). The sealer commits before it acks, so once it has nothing
pending every acknowledged frame is in the ledger heads read after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.aio.client import Client
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.follower import behind
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.settings import Settings


@dataclass(frozen=True)
class ConsumerLag:
    name: str
    pending: int  # not yet delivered
    unacked: int  # delivered, not yet committed+acked


async def consumer_lags(nc: Client, stream: str) -> list[ConsumerLag]:
    jsm = nc.jetstream()._jsm
    try:
        infos = await jsm.consumers_info(stream)
    except NotFoundError:
        return []
    return [ConsumerLag(i.name, int(i.num_pending or 0), int(i.num_ack_pending or 0))
            for i in infos if i.config.durable_name]


async def projection_lags(engine: AsyncEngine, names: list[str]) -> list[ConsumerLag]:
    """Entries each projection has still to apply, over every tenant (``pending``)."""
    async with engine.connect() as conn:
        return [ConsumerLag(name, sum(head - pos for _, head, pos in await behind(conn, name)), 0)
                for name in names]


async def wait_caught_up(settings: Settings, expect: list[str], timeout: float,
                         progress: Callable[[list[ConsumerLag]], None] = lambda _l: None,
                         projections: list[str] | None = None) -> bool:
    """True once every expected stream consumer exists and has nothing pending or unacked, and
    then every expected projection (``projections``: the names that follow the ledger) has
    reached every tenant's ledger head (default: the projections ``voxledger run`` starts)."""
    if projections is None:
        from services.runner.main import projection_factories

        projections = list(projection_factories())
    followers = [n for n in expect if n in projections]
    streams = [n for n in expect if n not in followers]
    nc = await connect(settings, name="voxledger-wait")
    engine = make_async_engine(settings, pool_size=1)
    try:
        deadline = time.monotonic() + timeout
        while True:
            lags = await consumer_lags(nc, settings.stream_name)
            names = {lag.name for lag in lags}
            done = set(streams) <= names and all(
                lag.pending == 0 and lag.unacked == 0 for lag in lags if lag.name in streams)
            # Read after the sealer's state: what it acked is committed, so in these heads.
            lags += await projection_lags(engine, followers)
            done = done and all(lag.pending == 0 for lag in lags if lag.name in followers)
            progress(lags)
            if done:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
    finally:
        await nc.close()
        await engine.dispose()
