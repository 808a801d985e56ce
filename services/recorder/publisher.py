"""Where the recorder publishes: JetStream, or an in-memory twin for unit tests.

A publisher never raises for transport trouble: it reports per message whether JetStream
acknowledged it within the timeout, and the recorder spills whatever was not. ``abort`` lets the
recorder stop waiting early when its memory queue passes the high-water mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Protocol

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from schemas.batch import batch_headers, is_batch_subject
from services.recorder.spool import Message


class Publisher(Protocol):
    @property
    def connected(self) -> bool: ...

    async def publish(self, messages: Sequence[Message], timeout: float,
                      abort: asyncio.Event | None = None) -> list[bool]: ...

    async def close(self) -> None: ...


async def _wait(done: asyncio.Future[None], timeout: float, abort: asyncio.Event | None) -> None:
    """Until ``done``, the timeout or ``abort``, whichever comes first."""
    if abort is None:
        await asyncio.wait((done,), timeout=timeout)
        return
    stop = asyncio.ensure_future(abort.wait())
    try:
        await asyncio.wait((done, stop), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stop


def headers_for(msg: Message) -> dict[str, str]:
    """``Nats-Msg-Id`` (the event id, or the batch id), and a batch's format and member count."""
    if is_batch_subject(msg.subject):
        return batch_headers(msg.event_id, msg.frames)
    return {"Nats-Msg-Id": msg.event_id}


def acknowledged(msg: Msg) -> bool:
    """Is this reply a JetStream PubAck (a stored or deduplicated message), not an error?"""
    if msg.headers and msg.headers.get("Status") == "503":
        return False  # no responders: no stream takes the subject
    try:
        reply = json.loads(msg.data)
    except ValueError:
        return False
    return isinstance(reply, dict) and "error" not in reply and "seq" in reply


class _Round:
    """One ``publish`` call's acks: one future for all of its messages."""

    __slots__ = ("acked", "done", "left")

    def __init__(self, n: int) -> None:
        self.acked = [False] * n
        self.left = n
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def settle(self, count: int) -> None:
        self.left -= count
        if self.left <= 0 and not self.done.done():
            self.done.set_result(None)


class NatsPublisher:
    """JetStream with ``Nats-Msg-Id = event_id`` (a batch's deterministic id), so a republished
    frame or batch is deduplicated.

    A call publishes its messages back to back (the client writes them to the socket at once)
    with a reply subject each under one inbox subscription, and waits on one future for all the
    acks. nats-py's ``publish_async`` would cost a task and an event-loop turn per message (it
    waits on a semaphore with ``wait_for``), so every message went out in its own socket write.
    The recorder's pipeline bounds what is in flight (``window``), which that semaphore did.
    """

    def __init__(self, nc: Client, stream: str | None) -> None:
        self.nc = nc
        self.stream = stream
        self._inbox = ""  # "<inbox prefix>.<nuid>." once subscribed
        self._waiting: dict[str, tuple[_Round, int]] = {}  # reply token -> (call, message index)
        self._next = 0

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    async def _reply_prefix(self) -> str:
        if not self._inbox:
            inbox = self.nc.new_inbox()  # under the credential's inbox prefix
            await self.nc.subscribe(f"{inbox}.*", cb=self._on_reply)
            self._inbox = f"{inbox}."
        return self._inbox

    async def _on_reply(self, msg: Msg) -> None:
        waiting = self._waiting.pop(msg.subject[len(self._inbox):], None)
        if waiting is not None:
            call, i = waiting
            call.acked[i] = acknowledged(msg)
            call.settle(1)

    async def publish(self, messages: Sequence[Message], timeout: float,
                      abort: asyncio.Event | None = None) -> list[bool]:
        if not self.connected or not messages:
            # while reconnecting the client would buffer into its own memory; the spool is ours
            return [False] * len(messages)
        try:
            prefix = await self._reply_prefix()
        except (NatsError, OSError, TimeoutError):
            return [False] * len(messages)
        call = _Round(len(messages))
        tokens: list[str] = []
        try:
            for i, msg in enumerate(messages):
                token = f"{self._next:x}"
                self._next += 1
                headers = headers_for(msg)
                if self.stream is not None:
                    headers["Nats-Expected-Stream"] = self.stream
                self._waiting[token] = (call, i)
                tokens.append(token)
                try:
                    await self.nc.publish(msg.subject, msg.data, reply=prefix + token,
                                          headers=headers)
                except (NatsError, OSError, TimeoutError):
                    call.settle(len(messages) - i)  # this one and the rest: not acknowledged
                    break
            await _wait(call.done, timeout, abort)  # for the acks of those sent
        finally:
            for token in tokens:
                self._waiting.pop(token, None)  # a late ack finds nobody waiting
        return call.acked

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
