"""Where the recorder publishes: JetStream, or an in-memory twin for unit tests.

A publisher never raises for transport trouble: it reports per message whether JetStream
acknowledged it within the timeout, and the recorder spills whatever was not. ``abort`` lets the
recorder stop waiting early when its memory queue passes the high-water mark.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from nats.aio.client import Client
from nats.errors import Error as NatsError

from schemas.batch import batch_headers, is_batch_subject
from services.recorder.spool import Message


class Publisher(Protocol):
    @property
    def connected(self) -> bool: ...

    async def publish(self, messages: Sequence[Message], timeout: float,
                      abort: asyncio.Event | None = None) -> list[bool]: ...

    async def close(self) -> None: ...


async def _wait(futures: list[asyncio.Future[object]], timeout: float,
                abort: asyncio.Event | None) -> None:
    gathered = asyncio.gather(*futures, return_exceptions=True)
    waiters: set[asyncio.Future[Any]] = {gathered}
    stop: asyncio.Task[bool] | None = None
    if abort is not None:
        stop = asyncio.ensure_future(abort.wait())
        waiters.add(stop)
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stop is not None:
            stop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stop
        if not gathered.done():
            gathered.cancel()  # cancels the ack futures left: frees the client's pending slots
            with contextlib.suppress(asyncio.CancelledError):
                await gathered


def _acked(future: asyncio.Future[object]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


def headers_for(msg: Message) -> dict[str, str]:
    """``Nats-Msg-Id`` (the event id, or the batch id), and a batch's format and member count."""
    if is_batch_subject(msg.subject):
        return batch_headers(msg.event_id, msg.frames)
    return {"Nats-Msg-Id": msg.event_id}


class NatsPublisher:
    """JetStream with ``Nats-Msg-Id = event_id`` (a batch's deterministic id), so a republished
    frame or batch is deduplicated."""

    def __init__(self, nc: Client, stream: str | None, *, max_pending: int = 4096) -> None:
        self.nc = nc
        self.stream = stream
        self.js = nc.jetstream(publish_async_max_pending=max_pending)

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    async def publish(self, messages: Sequence[Message], timeout: float,
                      abort: asyncio.Event | None = None) -> list[bool]:
        if not self.connected:
            # while reconnecting the client would buffer into its own memory; the spool is ours
            return [False] * len(messages)
        futures: list[asyncio.Future[object]] = []
        try:
            for msg in messages:
                fut = await self.js.publish_async(
                    msg.subject, msg.data, wait_stall=timeout, stream=self.stream,
                    headers=headers_for(msg))
                futures.append(fut)  # type: ignore[arg-type]
        except (NatsError, OSError, TimeoutError):
            pass  # the rest count as not acknowledged
        if futures:
            await _wait(futures, timeout, abort)
        acked = [_acked(f) for f in futures]
        return acked + [False] * (len(messages) - len(acked))

    async def close(self) -> None:
        with contextlib.suppress(NatsError, OSError, TimeoutError):
            await self.nc.drain()


class MemoryPublisher:
    """In-memory twin of JetStream: dedupes on ``Nats-Msg-Id`` (event or batch id), can be
    switched off to simulate outages."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.up = True
        self.ack_delay_s = 0.0  # a slow server: stores at once, acknowledges late
        self.refuse_once: set[str] = set()  # event ids lost in transit on their next publish
        self._seen: set[str] = set()
        self.duplicates = 0

    @property
    def connected(self) -> bool:
        return self.up

    async def publish(self, messages: Sequence[Message], timeout: float,
                      abort: asyncio.Event | None = None) -> list[bool]:
        await asyncio.sleep(0)
        if not self.up:
            return [False] * len(messages)
        acks = []
        for msg in messages:
            if msg.event_id in self.refuse_once:
                self.refuse_once.discard(msg.event_id)
                acks.append(False)
                continue
            acks.append(self.ack_delay_s < timeout)
            if msg.event_id in self._seen:
                self.duplicates += 1
                continue
            self._seen.add(msg.event_id)
            self.messages.append(msg)
        if self.ack_delay_s:
            await asyncio.sleep(min(self.ack_delay_s, timeout))
        return acks

    async def close(self) -> None:
        return None
