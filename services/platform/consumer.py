"""A durable JetStream pull consumer that commits before it acks.

Each batch: fetch, decode (bad frames → dead letters), run the handler inside one Postgres
transaction together with the consumer's progress row, commit, then ack. A failure before commit
acks nothing, so JetStream redelivers and the idempotent handler makes the effect exactly-once.

Ordered mode (a handler with ``ordered = True``, e.g. the ledger sealer): JetStream redelivers an
unacked message only after ``ack_wait`` while newer ones keep flowing, which breaks stream order.
So an ordered consumer never relies on redelivery: at start and after any failed batch it
recreates its durable consumer from the stream sequence after its committed progress row, and each
transaction skips what that row says is committed and moves the row on from exactly the value it
read (a conditional ``UPDATE``, the transaction's last statement or merged into the handler's own:
:class:`ProgressStep`); a row that moved meanwhile (another instance, a commit whose outcome was
lost) fails the transaction with :class:`~services.platform.isolation.StaleProgress`, and the
consumer re-reads the row and recreates its consumer as after any failed batch. A delivery the
client never saw (in flight when NATS restarted, or a pull answered into a dropped connection)
would otherwise be skipped for good: the next batch's stream sequences are still above the
committed one. So, as nats.go's ordered consumer does, every batch must continue the consumer's
delivery sequence exactly (1, 2, 3, ... from creation, none redelivered); a gap, a redelivery or a
reconnect (acks sent into a dead connection) drops the batch uncommitted and recreates the
consumer. Its consumer acks with ``AckPolicy.ALL``: one ack, of the last message of a committed
fetch, covers the fetch. Other consumers ack each message explicitly. When an ordered consumer is
behind (its last fetch came back full), it fetches the next batch while the current one commits;
those messages are checked against the delivery sequence once the current batch is committed and
acked, and any failure drops them unacked with the consumer it recreates.

Batch messages (:mod:`schemas.batch`) hold several events: items are keyed by
``(stream sequence, member)`` (:func:`~services.platform.intake.item_key`). A bisection may
commit the first members of one message and the rest in a later transaction, so the progress row
keeps, next to the last fully committed stream sequence, how many members of the following
message are committed (``next_member``): a retry skips exactly those, never the second half.
Only one instance per consumer name runs at a time: it holds a Postgres advisory lock for its
lifetime (a second one waits as a standby; the lock goes with the holder's connection, so a
killed process frees it).

Poison isolation (:mod:`services.platform.isolation`): a frame that does not decode, breaks the
ingest bounds, or whose subject names another tenant, session or kind than its envelope is
dead-lettered before the handler sees it; a batch the handler fails on for a reason of its
content is bisected until the failing event stands alone, which is dead-lettered while the rest
commits. A failure of a server (Postgres, S3, NATS down) is retried whole after a growing,
capped backoff, logged, and never dead-letters anything.

Erased sessions (issue 14): a handler that is not ordered never sees an event of a session whose
data key is destroyed (the pipeline's projections follow the sealed ledger instead,
``services/ledger/follower.py``, with the same guarantee; the sealer is the only stream consumer
``voxledger run`` starts). In the batch's own transaction the sessions' ledger rows
are read ``FOR KEY SHARE``; key destruction takes ``FOR UPDATE`` on the row first, so it waits for
a batch that saw the key alive, and the erasure's forgetters (which run after it) delete what that
batch wrote. Every later batch drops the session's events. The sealer handles them itself.

Handlers implement :class:`BatchHandler` (inheriting :class:`HandlerDefaults`): ``maintain`` runs
after each committed batch and when a fetch comes back empty (outboxes, periodic jobs), its
failures logged, never fatal; ``warm_up`` runs once in a thread after the durable consumer is
created (so it exists, and holds the stream's purge back, while a model loads) and before the
first fetch (loading models up front rather than on the first live batch); ``close`` at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    case,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from schemas.batch import batch_size as batch_members
from schemas.batch import is_batch_subject
from schemas.envelope import Limits
from services.platform.clock import Clock, SystemClock
from services.platform.deadletter import purge_expired, record_dead_letter
from services.platform.intake import Delivered as Delivered  # re-exported for handlers
from services.platform.intake import Item, decode_items, item_key
from services.platform.isolation import StaleProgress, bisect_apply
from services.platform.keys import KeyProvider
from services.platform.orm import Base

log = logging.getLogger(__name__)


# The ledger rows of a batch's sessions, locked against key destruction until the batch commits.
_KEYS = text("""
    SELECT l.tenant_id, l.session_id, l.wrapped_dek IS NULL AS erased
      FROM ledger_sessions l
      JOIN unnest(CAST(:tenants AS text[]), CAST(:sessions AS text[])) AS b(tenant_id, session_id)
        ON l.tenant_id = b.tenant_id AND l.session_id = b.session_id
     ORDER BY l.tenant_id, l.session_id
       FOR KEY SHARE OF l
""")


async def _without_erased(conn: AsyncConnection, good: list[Delivered]) -> list[Delivered]:
    pairs = sorted({(d.envelope.tenant_id, d.envelope.session_id) for d in good})
    rows = await conn.execute(_KEYS, {"tenants": [t for t, _ in pairs],
                                      "sessions": [s for _, s in pairs]})
    erased = {(str(r[0]), str(r[1])) for r in rows if r[2]}
    if not erased:
        return good
    kept = [d for d in good if (d.envelope.tenant_id, d.envelope.session_id) not in erased]
    log.warning("%d event(s) of %d erased session(s) discarded", len(good) - len(kept),
                len(erased))
    return kept


class ConsumerProgress(Base):
    """The last stream sequence each consumer committed in full, and how many members of the
    next (batch) message it committed already; written in the same transaction as the effect."""

    __tablename__ = "consumer_progress"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    next_member: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    batches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


_ins = pg_insert(ConsumerProgress)
# Never backwards: (stream_seq, next_member) only grows (a part entirely committed before, or a
# non-ordered consumer's late redelivery, leaves it).
_NEWER = (tuple_(_ins.excluded.stream_seq, _ins.excluded.next_member)
          > tuple_(ConsumerProgress.stream_seq, ConsumerProgress.next_member))
# Built once, executed with parameters: compiled once (cached), not rebuilt every batch.
_ADVANCE = _ins.on_conflict_do_update(
    index_elements=["consumer"],
    set_={"stream_seq": case((_NEWER, _ins.excluded.stream_seq),
                             else_=ConsumerProgress.stream_seq),
          "next_member": case((_NEWER, _ins.excluded.next_member),
                              else_=ConsumerProgress.next_member),
          "batches": ConsumerProgress.batches + 1, "updated_at": func.now()},
)


@dataclass(frozen=True)
class ProgressStep:
    """An ordered consumer's progress write for one transaction: the row goes from ``expected``
    (what this consumer read or last committed) to ``target``, both (stream_seq, next_member).
    Applied by :func:`advance_from` or, merged into a statement of its own, by a handler that
    ``merges_progress`` (the sealer, ``PROGRESS_CTE_SQL``): a round trip less per batch."""

    consumer: str
    expected: tuple[int, int]
    target: tuple[int, int]

    def params(self) -> dict[str, object]:
        return {"progress_consumer": self.consumer,
                "progress_old_seq": self.expected[0], "progress_old_member": self.expected[1],
                "progress_seq": self.target[0], "progress_member": self.target[1]}


# Moves the row only from the expected value: a row that moved fails the transaction (row
# count 0). Its lock is taken at the end of the transaction, after the handler's own (the
# sealer's tree row); a concurrent writer blocks on it and then finds the row moved.
PROGRESS_CTE_SQL = """
  UPDATE consumer_progress
     SET stream_seq = :progress_seq, next_member = :progress_member,
         batches = batches + 1, updated_at = now()
   WHERE consumer = :progress_consumer AND stream_seq = :progress_old_seq
     AND next_member = :progress_old_member
  RETURNING 1"""
_ADVANCE_FROM = text(PROGRESS_CTE_SQL)


def check_advanced(rows: int) -> None:
    """Raise :class:`StaleProgress` unless the progress row moved (``rows`` updated)."""
    if rows != 1:
        raise StaleProgress("the consumer's progress row moved under it")


async def advance_from(conn: AsyncConnection, step: ProgressStep) -> None:
    """Apply ``step`` in ``conn``'s transaction, or raise :class:`StaleProgress`."""
    check_advanced(len((await conn.execute(_ADVANCE_FROM, step.params())).all()))


def progress_after(last: Item) -> tuple[int, int]:
    """The progress row once every item up to ``last`` is committed: the last stream sequence
    committed in full and the members of the next message committed already."""
    if last.last_of_message:
        return last.seq, 0
    return last.seq - 1, last.member + 1


def committed_key(stream_seq: int, next_member: int) -> int:
    """The largest item key a progress row covers: items with a larger key are fresh."""
    return item_key(stream_seq + 1, next_member) - 1


# A message not acked within this is redelivered (a consumer killed mid-batch loses nothing and
# its successor gets the batch back this soon); a batch that takes longer keeps its messages
# with "in progress" acks every ACK_WAIT_S / 2, so slow work is not redelivered meanwhile.
ACK_WAIT_S = 20
# A fetch asks for about ``batch_size`` events and at most this many bytes: a batch message holds
# up to 1 MiB and 1,024 events, and 500 of them would pass the server's 64 MiB per-client
# buffer (it cuts the connection as a slow consumer). Judged by the last fetch, growing at most
# twofold per fetch, starting small.
FETCH_BYTES = 16 * 1024 * 1024
FETCH_FIRST = 8


def next_fetch(batch_size: int, last: int, messages: int, events: int, largest: int) -> int:
    """How many messages the next fetch asks for, after one of ``messages`` messages holding
    ``events`` events, the largest ``largest`` bytes, when ``last`` were asked for."""
    per_message = max(1.0, events / max(1, messages))
    by_events = int(batch_size / per_message)
    by_bytes = FETCH_BYTES // max(1, largest)
    return max(1, min(batch_size, by_events, by_bytes, 2 * last))
BACKOFF_MIN_S, BACKOFF_MAX_S = 0.5, 30.0
PURGE_EVERY_S = 600.0  # dead-letter retention is in days: a sweep every ten minutes is plenty


class BatchHandler(Protocol):
    """Every hook a consumer calls, named and typed (no attribute discovery): a handler inherits
    :class:`HandlerDefaults` and overrides what it uses."""

    name: str
    filter_subjects: list[str]
    ordered: bool  # keep stream order exactly (the sealer; see the module's docstring)
    linger: float  # seconds to wait for a fuller batch once caught up (0: the consumer's)
    fetch_timeout: float | None  # a shorter fetch wait (None: the consumer's)
    merges_progress: bool  # ordered: the consumer calls handle_and_advance instead of handle

    async def handle_and_advance(self, conn: AsyncConnection, batch: list[Delivered],
                                 step: ProgressStep) -> None:
        """:meth:`handle`, applying ``step`` in one of its own statements
        (``PROGRESS_CTE_SQL``, :func:`check_advanced`); called only if ``merges_progress``."""

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        """Apply the batch idempotently inside ``conn``'s transaction.

        May raise :class:`~services.platform.isolation.Rejected` naming events to dead-letter.
        """

    def warm_up(self) -> None:
        """Run once in a thread after subscribing, before the first fetch (models up front)."""

    async def maintain(self, engine: AsyncEngine) -> None:
        """After each committed batch and when a fetch comes back empty (outboxes, periodic
        jobs); its failures are logged, never fatal."""

    async def close(self) -> None:
        """Release what the handler holds of its own (connections, locks) at shutdown."""


class HookDefaults:
    """No-op lifecycle hooks, shared by stream handlers and ledger projections
    (``services/ledger/follower.py``)."""

    def warm_up(self) -> None:
        return None

    async def maintain(self, engine: AsyncEngine) -> None:
        return None

    async def close(self) -> None:
        return None


class HandlerDefaults(HookDefaults):
    """The defaults of :class:`BatchHandler`'s optional hooks."""

    ordered: bool = False
    linger: float = 0.0
    fetch_timeout: float | None = None
    merges_progress: bool = False

    async def handle_and_advance(self, conn: AsyncConnection, batch: list[Delivered],
                                 step: ProgressStep) -> None:
        raise NotImplementedError("called only on a handler that merges_progress")


@dataclass
class ConsumerStats:
    delivered: int = 0
    dead_lettered: int = 0
    batches: int = 0
    failures: int = 0


class PullConsumer:
    def __init__(self, nc: Client, engine: AsyncEngine, stream: str, handler: BatchHandler,
                 *, batch_size: int = 500, fetch_timeout: float = 0.5,
                 linger: float = 0.1, keys: KeyProvider | None = None,
                 limits: Limits | None = None, dead_letter_retention_days: float = 30.0,
                 clock: Clock | None = None) -> None:
        self.nc = nc
        # Dead letters are encrypted under the tenant's key (none: metadata only); ``limits``
        # are the ingest bounds checked at decode (none: the contract's static bounds only).
        self.keys = keys
        self.limits = limits
        self.retention_days = dead_letter_retention_days
        self.clock: Clock = clock or SystemClock()  # calendar time of the retention purge
        self._purged_at = 0.0
        self.engine = engine
        self.stream = stream
        self.handler = handler
        self.batch_size = batch_size
        # A handler that works in ``maintain`` between fetches (the audio recorder follows the
        # ledger, woken only by rare system events) sets a shorter wait of its own.
        self.fetch_timeout = min(fetch_timeout, handler.fetch_timeout or fetch_timeout)
        # Caught up (the last fetch was not full): wait this long before the next one, so a
        # live stream arrives in batches of `linger` seconds instead of a few events each.
        # Every batch costs round trips and statements whatever its size; under load this cut
        # the pipeline's CPU per event, for at most `linger` more latency. Since the recorder
        # batches at the tap (a message holds up to 64 frames), 0.1 s keeps batches large enough:
        # `make bench --quick` at 10 sessions went from lag p99 1,155 ms (0.2 s) to 410 ms.
        # A projection whose freshness is not on the evidence's clock (catalog, transcripts)
        # may ask for longer batches with a ``linger`` of its own.
        self.linger = max(linger, handler.linger)
        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()
        self._next_delivery = 1  # ordered mode: the consumer sequence the next message must have
        # Ordered mode: the progress row as read at subscribe or last committed by this instance.
        self._committed: tuple[int, int] = (0, 0)
        self._fetch = min(FETCH_FIRST, batch_size)  # messages the next fetch asks for
        self._reconnects = 0
        # Ordered mode, when behind: the next fetch, started while the current batch commits.
        self._ahead: tuple[asyncio.Future[list[Msg]], int] | None = None
        self.warmed = asyncio.Event()  # set once the handler's warm_up has run

    def stop(self) -> None:
        self._stopping.set()

    @property
    def ordered(self) -> bool:
        return self.handler.ordered

    def _config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.handler.name,
            # Ordered: one ack per committed fetch (its last message) stands for all of it.
            ack_policy=AckPolicy.ALL if self.ordered else AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_S,
            max_ack_pending=20_000,
            max_deliver=-1,
            filter_subjects=self.handler.filter_subjects,
        )

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        js = self.nc.jetstream()
        config = self._config()
        if not self.ordered:
            return await js.pull_subscribe(self.handler.filter_subjects[0],
                                           durable=self.handler.name, stream=self.stream,
                                           config=config)
        async with self.engine.begin() as conn:
            # The row exists from the start: every transaction moves it with an UPDATE.
            await conn.execute(pg_insert(ConsumerProgress).values(
                consumer=self.handler.name, stream_seq=0, batches=0).on_conflict_do_nothing())
            row = (await conn.execute(select(
                ConsumerProgress.stream_seq, ConsumerProgress.next_member).where(
                ConsumerProgress.consumer == self.handler.name))).one()
        self._committed = (int(row[0]), int(row[1]))
        committed = self._committed[0]
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(self.stream, self.handler.name)
        self._reconnects = self.nc.stats["reconnects"]
        await js.add_consumer(self.stream, dataclasses.replace(
            config, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=committed + 1, ack_wait=300))
        self._next_delivery = 1
        return await js.pull_subscribe_bind(durable=self.handler.name, stream=self.stream)

    def _broken_delivery(self, msgs: list[Msg]) -> str | None:
        """Ordered mode: why this batch does not continue the delivery sequence, if it does not."""
        expected = self._next_delivery
        for msg in msgs:
            meta = msg.metadata
            if meta.num_delivered != 1:
                return f"stream sequence {meta.sequence.stream} was redelivered"
            if meta.sequence.consumer != expected:
                return (f"delivery {meta.sequence.consumer} arrived where {expected} was due "
                        f"(stream sequence {meta.sequence.stream})")
            expected += 1
        return None

    async def _maintain(self) -> None:
        if time.monotonic() - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = time.monotonic()
            try:
                async with self.engine.begin() as conn:
                    purged = await purge_expired(conn, self.retention_days, self.clock.now())
                if purged:
                    log.info("%s: purged %d dead letter(s) past retention", self.handler.name,
                             purged)
            except Exception as exc:
                log.warning("%s: dead-letter purge failed (%s)", self.handler.name,
                            type(exc).__name__)
        try:
            await self.handler.maintain(self.engine)
        except Exception as exc:
            log.warning("%s: maintenance failed (%s: %s)", self.handler.name,
                        type(exc).__name__, str(exc)[:200])

    async def run(self) -> None:
        try:
            await self._run_locked()
        finally:
            await self._drop_ahead()

    async def _run_locked(self) -> None:
        if not self.ordered:
            await self._run()
            return
        async with self.engine.connect() as lock_conn:
            await lock_conn.execute(select(func.pg_advisory_lock(
                func.hashtext(f"voxledger-consumer:{self.handler.name}"))))
            await lock_conn.commit()
            try:
                await self._run()
            finally:
                await lock_conn.execute(select(func.pg_advisory_unlock(
                    func.hashtext(f"voxledger-consumer:{self.handler.name}"))))

    async def _run(self) -> None:
        # Subscribe first: the durable consumer then exists (and holds the stream's purge of its
        # input back, services/ledger/buffer.py) while the handler warms up, which can take
        # minutes. Nothing is fetched before the warm-up is done.
        sub = await self._resubscribe(None)
        await asyncio.to_thread(self.handler.warm_up)
        self.warmed.set()
        backoff, failing = BACKOFF_MIN_S, 0
        full, fetched_at = True, 0.0
        while not self._stopping.is_set():
            if not full and self.linger > 0:
                # `linger` after the previous fetch, not after its processing: a batch that took
                # longer than that is followed at once.
                await asyncio.sleep(self.linger - (time.monotonic() - fetched_at))
            if self.ordered and self.nc.stats["reconnects"] != self._reconnects:
                # Acks sent into the dropped connection are lost and would hold the messages
                # "pending" for the whole ack_wait; a fresh consumer forgets them.
                log.warning("%s: reconnected to NATS; re-creating the consumer from the "
                            "committed position", self.handler.name)
                sub = await self._resubscribe(sub)
                continue
            asked = self._fetch
            try:
                if self._ahead is not None:  # fetched while the previous batch committed
                    (ahead, asked), self._ahead = self._ahead, None
                    msgs = await ahead
                else:
                    msgs = await sub.fetch(asked, timeout=self.fetch_timeout)
            except (NatsTimeout, TimeoutError):
                # An empty fetch: nats-py raises its own TimeoutError on some paths and plain
                # asyncio's (== builtin) on others; neither is a failure worth a backoff.
                full = True  # the fetch itself waited; the next event needs no more delay
                await self._maintain()
                continue
            except Exception as exc:
                failing += 1
                log.warning("%s: fetch failed (%s); attempt %d, retrying in %.1f s",
                            self.handler.name, type(exc).__name__, failing, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            if not msgs:
                continue
            full, fetched_at = len(msgs) >= asked, time.monotonic()
            self._fetch = next_fetch(
                self.batch_size, asked, len(msgs),
                sum(batch_members(m.data) if is_batch_subject(m.subject) else 1 for m in msgs),
                max(len(m.data) for m in msgs))
            if self.ordered and (why := self._broken_delivery(msgs)):
                log.warning("%s: %s; re-creating the consumer from the committed position",
                            self.handler.name, why)
                sub = await self._resubscribe(sub)
                continue
            if self.ordered and full:
                # Behind (a full fetch): the next fetch runs while this batch commits. Its
                # messages are checked against the delivery sequence like any fetch, once this
                # batch is committed and acked; a failure drops them unacked (_resubscribe).
                self._ahead = (asyncio.ensure_future(
                    sub.fetch(self._fetch, timeout=self.fetch_timeout)), self._fetch)
            try:
                await self._process_keeping(msgs)
                self._next_delivery += len(msgs)
                if failing:
                    log.warning("%s: resumed after %d failed attempt(s)", self.handler.name,
                                failing)
                backoff, failing = BACKOFF_MIN_S, 0
            except Exception as exc:
                # Only failures that are not the events' fault get here (isolation dead-letters
                # the rest): a server is down. Back off, growing to a cap, and retry the batch.
                self.stats.failures += 1
                failing += 1
                log.warning("%s: batch of %d not committed (%s: %s); attempt %d, retrying in "
                            "%.1f s", self.handler.name, len(msgs), type(exc).__name__,
                            str(exc)[:200], failing, backoff)
                if self.ordered:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                    sub = await self._resubscribe(sub)
                    continue
                for msg in msgs:
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            await self._maintain()

    async def _drop_ahead(self) -> None:
        """Forget a fetch made ahead (its messages are never processed nor acked)."""
        if self._ahead is not None:
            ahead, self._ahead = self._ahead[0], None
            ahead.cancel()
            with contextlib.suppress(BaseException):
                await ahead

    async def _resubscribe(self, sub: JetStreamContext.PullSubscription | None
                           ) -> JetStreamContext.PullSubscription:
        await self._drop_ahead()
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        delay, attempt = BACKOFF_MIN_S, 0
        while True:
            try:
                return await self._subscribe()
            except Exception as exc:
                if self._stopping.is_set():
                    raise
                attempt += 1
                log.warning("%s: subscribe failed (%s); attempt %d, retrying in %.1f s",
                            self.handler.name, type(exc).__name__, attempt, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)

    async def _process_keeping(self, msgs: list[Msg]) -> None:
        """Process, telling JetStream the batch is in progress while it takes long."""
        if self.ordered:  # never redelivered into the batch order (ack_wait 300 s, recreated)
            await self._process(msgs)
            return
        work = asyncio.create_task(self._process(msgs))
        while True:
            done, _ = await asyncio.wait({work}, timeout=ACK_WAIT_S / 2)
            if done:
                return work.result()
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def _process(self, msgs: list[Msg]) -> None:
        items = [item for m in msgs for item in decode_items(m, self.limits)]
        outcome = await bisect_apply(items, lambda i: i.key, self._commit,
                                     {i.key: i.reason for i in items if i.reason})
        if self.ordered:
            await msgs[-1].ack()  # AckPolicy.ALL: acks the whole fetch
        else:
            for msg in msgs:
                await msg.ack()
        for item in items:
            if item.key in outcome.letters:
                log.warning("%s: dead-lettered stream sequence %d member %d (%s)",
                            self.handler.name, item.seq, item.member,
                            outcome.letters[item.key][:200])
        self.stats.delivered += len(items) - len(outcome.letters)
        self.stats.dead_lettered += len(outcome.letters)
        self.stats.batches += 1

    async def _commit(self, part: list[Item], letters: dict[int, str]) -> None:
        """One transaction: dead letters, the handler's effect and the progress row."""
        target = progress_after(max(part, key=lambda i: i.key))
        if self.ordered:
            step = ProgressStep(self.handler.name, self._committed,
                                max(self._committed, target))  # never backwards
            await self._commit_ordered(part, letters, step)
            self._committed = step.target
            return
        async with self.engine.begin() as conn:
            good = await self._letters_then_good(conn, part, letters)
            if good:
                good = await _without_erased(conn, good)
            if good:
                await self.handler.handle(conn, good)
            await conn.execute(_ADVANCE, {"consumer": self.handler.name, "stream_seq": target[0],
                                          "next_member": target[1], "batches": 1})

    async def _letters_then_good(self, conn: AsyncConnection, items: list[Item],
                                 letters: dict[int, str]) -> list[Delivered]:
        """Record the dead letters among ``items`` in ``conn``'s transaction; return the
        delivered events of the rest."""
        for item in items:
            if item.key in letters:
                await record_dead_letter(conn, self.keys, self.handler.name,
                                         item.letter(letters[item.key]))
        return [i.delivered for i in items if i.delivered and i.key not in letters]

    async def _commit_ordered(self, part: list[Item], letters: dict[int, str],
                              step: ProgressStep) -> None:
        done = committed_key(*step.expected)
        fresh = [i for i in part if i.key > done]
        async with self.engine.begin() as conn:
            good = await self._letters_then_good(conn, fresh, letters)
            if good and self.handler.merges_progress:
                await self.handler.handle_and_advance(conn, good, step)
                return
            if good:
                await self.handler.handle(conn, good)
            await advance_from(conn, step)
