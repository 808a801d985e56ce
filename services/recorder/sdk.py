"""Recorder SDK: stamp, sequence, batch, queue, publish (DESIGN.md law 1: never block the call).

Batching at the tap (issue 13 item 5): a session's frames go out in small batches of one session
each (:mod:`schemas.batch`), closed at ``batch_max_frames`` frames, at the body bound, or by the
recorder's linger, whichever comes first; ``session.ended``, :meth:`Recorder.flush` and
:meth:`Recorder.close` close them at once. ``record()`` only stamps, encodes and appends: the
linger is a timer on the event loop, never a wait in the caller.

The linger is one timer per recorder, not per session: it is armed by the first frame of an open
batch and closes every open batch when it fires, so no frame waits more than
``batch_linger_ms`` and the batches of all sessions go out in one publish (one socket write, their
acks read together). Per-session timers cost the gateway's event loop a timer, a publish and an
ack wake-up per batch and session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uuid_utils

from schemas.batch import MAX_BATCH_FRAMES
from schemas.envelope import Direction, Envelope, EnvelopeError, Provider, subject_for
from schemas.system_events import Gap, SessionEnded, SessionStarted
from services.platform.clock import Clock as WallClock
from services.platform.clock import SystemClock
from services.providers.frames import frame_type
from services.recorder.batching import OpenBatch
from services.recorder.pipeline import Pending, Pipeline, RecorderStats
from services.recorder.publisher import NatsPublisher, Publisher
from services.recorder.segments import FsyncPolicy, Spool
from services.recorder.spool import Message
from services.recorder.stamp import Stamper

if TYPE_CHECKING:
    from nats.aio.client import Client

    from services.platform.settings import Settings
    from services.platform.tenants import GatewayCredential

log = logging.getLogger(__name__)

Clock = Callable[[], int]  # monotonic nanoseconds
GAP_TYPE = "recorder.gap"


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
        # recorded_at comes from the platform clock (VOXLEDGER_CLOCK_OFFSET_DAYS shifts it in
        # tests that need sessions recorded in the past; refused in production).
        self._stamper = Stamper(recorder.tenant_id, session_id, recorder.wall_clock.now())
        self._seq = 0
        self._ended = False
        self._batch: OpenBatch | None = None

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
        self.flush_batch()  # the end never waits for the linger

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

    def record(self, direction: Direction, frame: dict[str, Any], *,
               provider: Provider | None = None, type_: str | None = None,
               at_ns: int | None = None) -> Envelope:
        """Stamp and enqueue; returns at once. Synchronous so it can be called from any callback."""
        t_start = time.perf_counter_ns()
        if self._ended:
            raise RuntimeError("session already ended")
        if self.recorder.closing:
            raise RuntimeError("recorder is closed")
        env, data = self._stamp(direction, frame, provider or self.provider, type_, at_ns)
        self._add(env, data)
        stats = self.recorder.stats
        elapsed = time.perf_counter_ns() - t_start
        stats.max_record_ns = max(stats.max_record_ns, elapsed)
        stats.record_ns.add(elapsed)
        return env

    def _add(self, env: Envelope, data: bytes) -> None:
        recorder = self.recorder
        batch = self._batch
        if batch is not None and not batch.fits(len(data), recorder.batch_max_frames):
            self.flush_batch()
            batch = None
        if batch is None:
            batch = self._batch = OpenBatch(env.seq, subject_for(env, recorder.subject_prefix))
        batch.add(env.event_id, data)
        members = len(batch.members)
        if members >= recorder.batch_max_frames:
            self.flush_batch()
        elif members == 1:
            recorder._open.add(self)
            if recorder._linger is None:
                recorder._linger = asyncio.get_running_loop().call_later(
                    recorder.batch_linger_s, recorder.flush_batches)

    def flush_batch(self) -> None:
        """Queue the open batch now (the linger timer, the end, ``flush``/``close``, a gap)."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        recorder = self.recorder
        recorder._open.discard(self)
        msg = batch.message(recorder.subject_prefix, recorder.tenant_id, self.session_id)
        recorder._pipeline.offer(Pending(msg, self, batch.first_seq, len(batch)))

    def _stamp(self, direction: Direction, frame: dict[str, Any], prov: Provider,
               type_: str | None, at_ns: int | None) -> tuple[Envelope, bytes]:
        """The next seq's envelope and its JSON; a refused frame takes no seq (no hole)."""
        mono = at_ns if at_ns is not None else self._clock() - self._t0
        try:
            stamped = self._stamper.stamp(str(uuid_utils.uuid7()), self._seq, prov, direction,
                                          type_ or frame_type(prov, frame), mono, frame)
        except EnvelopeError as exc:
            self.recorder.stats.rejected += 1
            log.warning("recorder: frame seq=%d of session %s rejected (%s)", self._seq,
                        self.session_id, exc)
            raise
        self._seq += 1
        return stamped

    def gap_item(self, first_seq: int, last_seq: int, reason: str) -> Pending:
        """A ``recorder.gap`` event with the next seq; allowed after the end (losses come late).

        Queued by the pipeline itself, so the open batch (lower seqs) is queued first."""
        self.flush_batch()
        gap = Gap(first_seq=first_seq, last_seq=last_seq, reason=reason)
        mono = max(0, self._clock() - self._t0)
        env, data = self._stamp(Direction.SYSTEM, gap.model_dump(mode="json"), self.provider,
                                GAP_TYPE, mono)
        return Pending(Message(subject_for(env, self.recorder.subject_prefix), env.event_id, data),
                       self, env.seq)


class Recorder:
    """Publishes a tenant's sessions. Build it with :meth:`connect`; one per gateway process.

    ``publisher`` is JetStream in production (:class:`NatsPublisher`) or the in-memory twin in
    unit tests. ``spool_dir`` holds frames while JetStream is unreachable; leftover segments of a
    crashed process in that directory are drained first. ``batch_max_frames`` (1: no batching)
    and ``batch_linger_ms`` shape the batches (module docstring).
    """

    wall_clock: WallClock = SystemClock()  # stamps recorded_at; connect() uses the settings' clock

    def __init__(self, publisher: Publisher, tenant_id: str, *, spool_dir: Path,
                 subject_prefix: str = "voice", max_queue: int = 50_000, window: int = 256,
                 fsync: FsyncPolicy = "interval", fsync_interval_s: float = 0.1,
                 spool_max_bytes: int = 1 << 30, publish_timeout_s: float = 2.0,
                 wall_clock: WallClock | None = None, batch_max_frames: int = 64,
                 batch_linger_ms: float = 50.0) -> None:
        if not 1 <= batch_max_frames <= MAX_BATCH_FRAMES:
            raise ValueError(f"batch_max_frames must be 1..{MAX_BATCH_FRAMES}")
        if not 0 <= batch_linger_ms <= 10_000:
            raise ValueError("batch_linger_ms must be 0..10000")
        self.batch_max_frames = batch_max_frames
        self.batch_linger_s = batch_linger_ms / 1000
        self._open: set[RecordingSession] = set()  # sessions with an open batch
        self._linger: asyncio.TimerHandle | None = None  # closes every open batch when it fires
        self.publisher = publisher
        self.wall_clock = wall_clock or SystemClock()
        self.tenant_id = tenant_id
        self.subject_prefix = subject_prefix
        self.stats = RecorderStats()
        self.spool = Spool(spool_dir, fsync=fsync, fsync_interval_s=fsync_interval_s,
                           max_bytes=spool_max_bytes)
        self._pipeline = Pipeline(publisher, self.spool, self.stats, max_queue=max_queue,
                                  window=window, publish_timeout_s=publish_timeout_s)

    @property
    def nc(self) -> Client | None:
        return self.publisher.nc if isinstance(self.publisher, NatsPublisher) else None

    @property
    def spilling(self) -> bool:
        return self._pipeline.spilling

    @property
    def closing(self) -> bool:
        return self._pipeline.closing

    @classmethod
    async def connect(cls, settings: Settings, tenant_id: str, *,
                      credential: GatewayCredential | None = None, **kwargs: Any) -> Recorder:
        """Connect as the tenant's gateway: with ``credential`` (``voxledger tenants add``) or
        the NATS user and password of ``settings``."""
        from pydantic import SecretStr

        from services.platform.nats import connect
        from services.platform.tenants import gateway_inbox_prefix

        if credential is not None:
            if credential.tenant != tenant_id:
                raise ValueError("the credential belongs to another tenant")
            settings = settings.model_copy(update={
                "nats_url": credential.nats_url or settings.nats_url,
                "nats_user": credential.nats_user,
                "nats_password": SecretStr(credential.nats_password)})
        # The gateway credential may subscribe to its own reply inbox only (publish acks).
        nc = await connect(settings, name=f"voxledger-recorder-{tenant_id}",
                           inbox_prefix=gateway_inbox_prefix(tenant_id))
        options: dict[str, Any] = {
            "spool_dir": (settings.recorder_spool_dir or settings.home / "spool") / tenant_id,
            "subject_prefix": settings.subject_prefix,
            "max_queue": settings.recorder_max_queue,
            "fsync": settings.recorder_fsync,
            "spool_max_bytes": settings.recorder_spool_max_bytes,
            "publish_timeout_s": settings.recorder_publish_timeout_s,
            "wall_clock": settings.clock(),
            "batch_max_frames": settings.recorder_batch_max_frames,
            "batch_linger_ms": settings.recorder_batch_linger_ms,
        }
        options.update(kwargs)
        recorder = cls(NatsPublisher(nc, settings.stream_name), tenant_id, **options)
        recorder.start()
        return recorder

    def start(self) -> None:
        """Start the publisher task now, so leftover spool files drain before any session."""
        self._pipeline.start()

    def session(self, session_id: str, provider: Provider, *, started: SessionStarted | None = None,
                clock: Clock | None = None) -> RecordingSession:
        return RecordingSession(self, session_id, provider, started, clock)

    def flush_batches(self) -> None:
        """Queue every open batch now (the linger timer calls it too)."""
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        for session in list(self._open):
            session.flush_batch()

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every recorded frame is acknowledged by JetStream (spool drained too)."""
        self.flush_batches()
        await self._pipeline.flush(timeout)

    async def close(self, timeout: float | None = 60.0) -> None:
        """Flush, then stop. Frames JetStream has not taken by ``timeout`` stay in the spool."""
        self.flush_batches()
        await self._pipeline.close(timeout)
