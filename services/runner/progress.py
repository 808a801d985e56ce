"""How far behind the stream each durable consumer is: the basis of ``voxledger wait``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.aio.client import Client
from nats.js.errors import NotFoundError

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


async def wait_caught_up(settings: Settings, expect: list[str], timeout: float,
                         progress: Callable[[list[ConsumerLag]], None] = lambda _l: None) -> bool:
    """True once every expected consumer exists and has nothing pending or unacked."""
    nc = await connect(settings, name="voxledger-wait")
    try:
        deadline = time.monotonic() + timeout
        while True:
            lags = await consumer_lags(nc, settings.stream_name)
            names = {lag.name for lag in lags}
            done = set(expect) <= names and all(
                lag.pending == 0 and lag.unacked == 0 for lag in lags if lag.name in expect)
            progress(lags)
            if done:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.5)
    finally:
        await nc.close()
