"""The follower's linger counts from the start of the previous round (no sockets: a fake round)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from services.ledger.follower import Follower, ProjectionDefaults


class Slow(ProjectionDefaults):
    name = "linger-test"
    linger = 0.2

    def __init__(self, work_s: float) -> None:
        self.work_s = work_s
        self.starts: list[float] = []

    async def handle(self, conn: Any, batch: list[Any]) -> None:
        return None

    async def maintain(self, engine: Any) -> None:
        self.starts.append(time.monotonic())
        await asyncio.sleep(self.work_s)


class NoRead(Follower):
    async def round(self) -> int:
        return 0


async def gaps(work_s: float, rounds: int = 5) -> list[float]:
    projection = Slow(work_s)
    follower = NoRead(None, projection, None, poll_s=5.0, listen=False)  # type: ignore[arg-type]

    async def notify() -> None:  # the sealer commits something every 10 ms
        while True:
            follower._woken.set()
            await asyncio.sleep(0.01)

    waker = asyncio.create_task(notify())
    loop = asyncio.create_task(follower._loop())
    while len(projection.starts) < rounds:
        await asyncio.sleep(0.01)
    follower.stop()
    waker.cancel()
    await loop
    return [b - a for a, b in zip(projection.starts, projection.starts[1:], strict=False)]


async def test_a_short_round_waits_out_the_linger_from_its_start() -> None:
    assert all(0.19 <= g < 0.27 for g in await gaps(0.1))  # it lingered 0.3 s from its end


async def test_a_round_longer_than_the_linger_is_followed_at_once() -> None:
    assert all(0.3 <= g < 0.42 for g in await gaps(0.3))  # it lingered 0.5 s
