"""Recorder SDK: stamp, sequence, queue, publish (DESIGN.md law 1: never block the call)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import uuid_utils
from nats.aio.client import Client

from schemas.envelope import Direction, Envelope, EnvelopeError, Provider, encode_envelope, subject_for
from schemas.system_events import SessionEnded, SessionStarted
from services.recorder.frames import frame_type

log = logging.getLogger(__name__)

Clock = Callable[[], int]  # monotonic nanoseconds


@dataclass
class RecorderStats:
    queued: int = 0
    published: int = 0
    retried: int = 0
    dropped: int = 0
    rejected: int = 0
    max_record_ns: int = 0


@dataclass(frozen=True)
class _Outgoing:
    subject: str
    data: bytes
    event_id: str


class RecordingSession:
    """One voice session. ``seq`` is gapless from 0; ``mono_ns`` is the session timeline."""

    def __init__(self, recorder: Recorder, session_id: str, provider: Provider,
                 started: SessionStarted | None, clock: Clock | None) -> None:
        self.recorder = recorder
        self.session_id = session_id
        self.provider = provider
        self.started = started or SessionStarted(provider=provider.value)
        self._clock = clock or time.monotonic_ns
        self._t0 = self._clock()
        self._wall0 = datetime.now(UTC)
        self._seq = 0
        self._ended = False

    @property
    def next_seq(self) -> int:
        return self._seq

    async def __aenter__(self) -> RecordingSession:
        await self.system("session.started", self.started.model_dump(mode="json"))
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if not self._ended:
            await self.end("error" if exc_type else "completed")

    async def end(self, reason: str = "completed") -> None:
        ended = SessionEnded(reason=reason, last_seq=self._seq)
        await self.system("session.ended", ended.model_dump(mode="json"))
        self._ended = True

    async def client(self, frame: dict[str, Any], *, provider: Provider | None = None,
                     at_ns: int | None = None) -> Envelope:
        """A frame the gateway sent to the provider."""
        return self.record(Direction.CLIENT, frame, provider=provider, at_ns=at_ns)

    async def server(self, frame: dict[str, Any], *, provider: Provider | None = None,
                     at_ns: int | None = None) -> Envelope:
        """A frame the gateway received from the provider."""
        return self.record(Direction.SERVER, frame, provider=provider, at_ns=at_ns)

    async def system(self, type_: str, payload: dict[str, Any], *, at_ns: int | None = None
                     ) -> Envelope:
        return self.record(Direction.SYSTEM, payload, type_=type_, at_ns=at_ns)

    def record(self, direction: Direction, frame: dict[str, Any], *, provider: Provider | None = None,
               type_: str | None = None, at_ns: int | None = None) -> Envelope:
        """Stamp and enqueue; returns at once. Synchronous so it can be called from any callback."""
        t_start = time.perf_counter_ns()
        if self._ended:
            raise RuntimeError("session already ended")
        prov = provider or self.provider
        mono = at_ns if at_ns is not None else self._clock() - self._t0
        env = Envelope(
            event_id=str(uuid_utils.uuid7()),
            tenant_id=self.recorder.tenant_id,
            session_id=self.session_id,
            seq=self._seq,
            provider=prov,
            direction=direction,
            type=type_ or frame_type(prov, frame),
            recorded_at=self._wall0 + timedelta(microseconds=mono // 1000),
            mono_ns=mono,
            payload=frame,
        )
        self._seq += 1
        self.recorder._enqueue(env)
        self.recorder.stats.max_record_ns = max(self.recorder.stats.max_record_ns,
                                                time.perf_counter_ns() - t_start)
        return env


class Recorder:
    def __init__(self, nc: Client, tenant_id: str, *, subject_prefix: str = "voice",
                 stream: str | None = None, max_queue: int = 50_000, window: int = 256) -> None:
        self.nc = nc
        self.js = nc.jetstream(publish_async_max_pending=window * 2)
        self.tenant_id = tenant_id
        self.subject_prefix = subject_prefix
        self.stream = stream
        self.window = window
        self.stats = RecorderStats()
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue(maxsize=max_queue)
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, settings: Any, tenant_id: str, **kwargs: Any) -> Recorder:
        from services.platform.nats import connect

        nc = await connect(settings, name=f"voxledger-recorder-{tenant_id}")
        return cls(nc, tenant_id, subject_prefix=settings.subject_prefix,
                   stream=settings.stream_name, **kwargs)

    def session(self, session_id: str, provider: Provider, *, started: SessionStarted | None = None,
                clock: Clock | None = None) -> RecordingSession:
        return RecordingSession(self, session_id, provider, started, clock)

    def _enqueue(self, env: Envelope) -> None:
        try:
            data = encode_envelope(env)
        except EnvelopeError:
            self.stats.rejected += 1
            log.warning("recorder: frame seq=%d of a session rejected (too large)", env.seq)
            raise
        item = _Outgoing(subject_for(env, self.subject_prefix), data, env.event_id)
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.dropped += 1  # the ledger issue replaces this with a disk spill
            return
        self.stats.queued += 1
        self._idle.clear()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._publish_loop())

    async def _publish_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.window and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._publish_batch(batch)
            if self._queue.empty():
                self._idle.set()

    async def _publish_batch(self, batch: list[_Outgoing]) -> None:
        pending = batch
        delay = 0.05
        while pending:
            futures = []
            for item in pending:
                futures.append(await self.js.publish_async(
                    item.subject, item.data, headers={"Nats-Msg-Id": item.event_id},
                    stream=self.stream))
            results = await asyncio.gather(*futures, return_exceptions=True)
            failed = [item for item, r in zip(pending, results, strict=True)
                      if isinstance(r, BaseException)]
            self.stats.published += len(pending) - len(failed)
            if failed:
                # Same Nats-Msg-Id on retry: JetStream drops any copy that did land.
                self.stats.retried += len(failed)
                log.warning("recorder: %d publishes not acknowledged; retrying", len(failed))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            pending = failed

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every queued frame is acknowledged by JetStream."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self, timeout: float | None = 60.0) -> None:
        await self.flush(timeout)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.nc.drain()
