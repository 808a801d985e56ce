"""Memory queue -> JetStream, with a disk spool in between when JetStream is away or slow.

A queued item is one message: a single frame, or a batch of one session's frames
(:mod:`schemas.batch`), which is queued, spooled, published and acknowledged as one. Counters and
the memory bound are in frames.

One background task owns every transition, so ordering needs no locks:

* **direct**: take up to ``window`` queued frames, publish, wait for the acks. Anything not acked
  within ``publish_timeout_s`` (or when the queue passes the high-water mark while waiting)
  switches the recorder to *spilling*.
* **spilling**: every queued frame is appended to the spool (new frames too, so order holds);
  whenever NATS is connected the oldest spooled records are republished with their original
  ``Nats-Msg-Id``, so JetStream drops any copy that did land. When the spool and the queue are
  both empty the recorder goes back to *direct*.

Frames that fit nowhere (queue full, spool cap reached, disk refusing writes) are never dropped
silently: their ``seq`` ranges are kept per session and turned into ``recorder.gap`` events as
soon as there is room for them again (DESIGN.md laws 1 and 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from services.recorder.publisher import Publisher
from services.recorder.segments import Spool
from services.recorder.spool import Message

log = logging.getLogger(__name__)

# Headroom kept in the spool before gap markers are written: each is well under 1 KiB.
_GAP_RESERVE = 16 * 1024
_MAX_BACKOFF_S = 2.0


# record() latency histogram: 8 buckets per power of two (a bucket is at most ~9% wide).
_SUB_BITS = 3


def _bucket(ns: int) -> int:
    n = max(1, ns)
    shift = max(0, n.bit_length() - 1 - _SUB_BITS)
    return (shift << _SUB_BITS) + (n >> shift)


def _bucket_top(bucket: int) -> int:
    shift = max(0, (bucket >> _SUB_BITS) - 1) if bucket >= 2 << _SUB_BITS else 0
    base = bucket - (shift << _SUB_BITS)
    return ((base + 1) << shift) - 1


@dataclass
class LatencyHistogram:
    """Constant memory and time per sample; percentiles are a bucket's upper bound (≤ 9% high)."""

    counts: dict[int, int] = field(default_factory=dict)
    total: int = 0

    def add(self, ns: int) -> None:
        b = _bucket(ns)
        self.counts[b] = self.counts.get(b, 0) + 1
        self.total += 1

    def percentile_ns(self, q: float) -> int:
        """Nearest-rank percentile (``q`` in 0..100); 0 with no samples."""
        if not self.total:
            return 0
        rank = max(1, -(-self.total * q // 100))
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= rank:
                return _bucket_top(b)
        return _bucket_top(max(self.counts))


@dataclass
class RecorderStats:
    queued: int = 0  # frames accepted into the memory queue (a batch's once it is closed)
    published: int = 0  # frames acknowledged by JetStream (directly or from the spool)
    spilled: int = 0  # frames written to the spool
    drained: int = 0  # spooled frames acknowledged by JetStream
    dropped: int = 0  # frames kept nowhere; each is covered by a gap marker
    gaps: int = 0  # recorder.gap events emitted
    retried: int = 0  # publish attempts that were not acknowledged
    rejected: int = 0  # frames refused by record() (envelope too large)
    max_record_ns: int = 0  # slowest record() call
    batches: int = 0  # batch messages queued (each of 2 or more frames)
    record_ns: LatencyHistogram = field(default_factory=LatencyHistogram)


class GapSink(Protocol):
    """A session: it can stamp a ``recorder.gap`` event with its next seq."""

    session_id: str

    def gap_item(self, first_seq: int, last_seq: int, reason: str) -> Pending: ...


@dataclass(frozen=True)
class Pending:
    msg: Message
    sink: GapSink
    seq: int  # the first frame's
    frames: int = 1  # a batch's frames carry seq, seq + 1, ... seq + frames - 1


@dataclass
class _Loss:
    sink: GapSink
    ranges: list[list[int | str]] = field(default_factory=list)  # [first, last, reason]


class Pipeline:
    def __init__(self, publisher: Publisher, spool: Spool, stats: RecorderStats, *,
                 max_queue: int, window: int, publish_timeout_s: float) -> None:
        self.publisher = publisher
        self.spool = spool
        self.stats = stats
        self.max_queue = max_queue
        self.high_water = max(1, max_queue // 2)
        self.window = window
        self.publish_timeout_s = publish_timeout_s
        self.spilling = False
        self._queue: deque[Pending] = deque()
        self._frames = 0  # frames in the queue: what max_queue bounds
        self._losses: dict[int, _Loss] = {}
        self._wake = asyncio.Event()
        self._pressure = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._backoff = 0.05
        self._retry_at = 0.0

    # --- caller side (synchronous, on the call's event loop) -------------------------------

    @property
    def closing(self) -> bool:
        return self._stopping

    def offer(self, item: Pending) -> None:
        if self._stopping:
            raise RuntimeError("recorder is closed")
        if self._frames >= self.max_queue:
            self.lose([item], "memory queue full")
        else:
            self._push(item)
            self.stats.queued += item.frames
            self.stats.batches += int(item.frames > 1)
        self._idle.clear()
        self._wake.set()
        self.start()

    def _push(self, item: Pending) -> None:
        self._queue.append(item)
        self._frames += item.frames
        if self._frames >= self.high_water:
            self._pressure.set()

    def _take(self, n: int) -> list[Pending]:
        items = [self._queue.popleft() for _ in range(min(n, len(self._queue)))]
        self._frames -= sum(p.frames for p in items)
        return items

    def _put_back(self, items: list[Pending]) -> None:
        self._queue.extendleft(reversed(items))
        self._frames += sum(p.frames for p in items)

    def lose(self, items: list[Pending], reason: str) -> None:
        for item in items:
            loss = self._losses.setdefault(id(item.sink), _Loss(item.sink))
            last = loss.ranges[-1] if loss.ranges else None
            end = item.seq + item.frames - 1
            if last is not None and last[1] == item.seq - 1 and last[2] == reason:
                last[1] = end
            else:
                loss.ranges.append([item.seq, end, reason])
            self.stats.dropped += item.frames
        if items:
            log.error("recorder: %d frames could not be kept (%s); gap markers will follow",
                      sum(p.frames for p in items), reason)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    # --- the background task ---------------------------------------------------------------

    async def _run(self) -> None:
        try:
            if await asyncio.to_thread(self.spool.adopt_orphans):
                log.warning("recorder: found spooled frames of an earlier process; draining them")
                self.spilling = True
        except OSError as exc:  # an unusable spool directory must not stop direct publishing
            log.error("recorder: cannot scan the spool directory (%s)", exc.strerror)
        while not self._stopping:
            self._wake.clear()
            try:
                if self.spilling:
                    await self._spill_step()
                else:
                    await self._direct_step()
                self._emit_gaps()
            except Exception:  # the recorder must outlive its own bugs
                log.exception("recorder: publish loop error; retrying")
                await asyncio.sleep(0.5)
            if not self._queue and not self.spilling and not self._losses:
                self._idle.set()

    async def _direct_step(self) -> None:
        if not self._queue:
            await self._wake.wait()
            return
        batch = self._take(self.window)
        try:
            acks = await self.publisher.publish([p.msg for p in batch], self.publish_timeout_s,
                                                self._pressure)
        except BaseException:
            self._put_back(batch)  # nothing lost on a bug or cancellation
            raise
        failed = [p for p, ok in zip(batch, acks, strict=True) if not ok]
        self.stats.published += sum(p.frames for p, ok in zip(batch, acks, strict=True) if ok)
        if failed or self._frames >= self.high_water:
            self.stats.retried += sum(p.frames for p in failed)
            why = "did not acknowledge in time" if failed else "is slow"
            log.warning("recorder: JetStream %s; spilling to %s", why, self.spool.directory)
            self.spilling = True
            self._retry_at = time.monotonic() + self._backoff
            await self._spill(failed)

    async def _spill_step(self) -> None:
        batch = self._take(4096)
        if batch:
            await self._spill(batch)
        if self._frames < self.high_water:
            self._pressure.clear()
        if self.spool.sync_due():
            await asyncio.to_thread(self.spool.sync)
        drained = False
        if self.publisher.connected and time.monotonic() >= self._retry_at:
            drained = await self._drain_step()
        if self.spool.empty and not self._queue:
            await asyncio.to_thread(self.spool.release_drained)
            self.spilling = False
            self._backoff = 0.05
            log.info("recorder: spool drained; publishing directly again")
            return
        if not batch and not drained:
            delay = max(0.01, min(self._retry_at - time.monotonic(), self.spool.fsync_interval_s))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _spill(self, items: list[Pending]) -> None:
        if not items:
            return
        kept = await asyncio.to_thread(self.spool.append, [p.msg for p in items])
        self.stats.spilled += sum(p.frames for p in items[:kept])
        if kept < len(items):
            self.lose(items[kept:], self.spool.refusal or "spool refused the write")

    async def _drain_step(self) -> bool:
        """Republish the oldest spooled records; True if all of them were acknowledged."""
        records = await asyncio.to_thread(self.spool.read, self.window)
        if not records:
            return True
        acks = await self.publisher.publish([m for _, m in records], self.publish_timeout_s)
        # Only the acknowledged prefix is committed, so the spool keeps its order.
        n = next((i for i, ok in enumerate(acks) if not ok), len(acks))
        if n:
            await asyncio.to_thread(self.spool.advance, records[n - 1][0])
            frames = sum(m.frames for _, m in records[:n])
            self.stats.drained += frames
            self.stats.published += frames
        if n < len(records):
            self.stats.retried += sum(m.frames for _, m in records[n:])
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, _MAX_BACKOFF_S)
            return False
        self._backoff = 0.05
        return True

    def _emit_gaps(self) -> None:
        if not self._losses or self._frames >= self.high_water:
            return
        if self.spilling and self.spool.bytes + _GAP_RESERVE > self.spool.max_bytes:
            return  # it would be lost too; wait until the drain makes room
        losses, self._losses = self._losses, {}
        for loss in losses.values():
            for first, last, reason in loss.ranges:
                item = loss.sink.gap_item(int(first), int(last), str(reason))
                self._push(item)
                self.stats.queued += 1
                self.stats.gaps += 1
                log.warning("recorder: session %s lost seq %s..%s (%s); gap event seq %d",
                            loss.sink.session_id, first, last, reason, item.seq)

    # --- shutdown ----------------------------------------------------------------------------

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every frame is acknowledged (spool drained, gap markers published)."""
        if self._queue or self.spilling or self._losses:
            self._idle.clear()
            self.start()
        elif self._task is None:
            return
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self, timeout: float | None) -> None:
        """Flush; if JetStream stays away, spool the memory queue for a later Recorder to drain."""
        try:
            await self.flush(timeout)
        except TimeoutError:
            log.warning("recorder: closing with frames not yet acknowledged; they stay spooled")
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        self._emit_gaps()
        await self._spill(self._take(len(self._queue)))
        await asyncio.to_thread(self.spool.close)
        for loss in self._losses.values():
            for first, last, reason in loss.ranges:
                log.error("recorder: session %s lost seq %s..%s (%s) and its gap marker could "
                          "not be recorded before close", loss.sink.session_id, first, last, reason)
        await self.publisher.close()
