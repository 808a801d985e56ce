"""A projection follows the sealed ledger by position (the read side of DESIGN law 3).

:class:`Follower` runs one :class:`Projection`: for every tenant whose ledger head is past the
projection's stored position, it reads a bounded batch through :mod:`services.ledger.reader`,
applies it with the projection's ``handle`` and writes the new position in the same transaction
(``projection_positions``, the tracking record of pyeventsourcing's process applications). A
restart resumes from the stored position; a batch applied twice cannot happen (the position row
is locked ``FOR UPDATE`` and events below it are skipped), so effects are exactly-once.

Waking. The sealer sends ``NOTIFY voxledger_sealed, '<tenant>'`` in its batch transaction, which
Postgres delivers on commit; the follower LISTENs on a psycopg connection of its own and reads as
soon as one arrives. Polling every ``poll_s`` is the fallback (a lost notification, a LISTEN
connection that broke), so live lag is one read after the sealer's commit, plus the
projection's ``linger``: a projection whose freshness is not measured in milliseconds starts a
read at most that often after a wake (counted from the start of the previous round, so a round
that took longer is followed at once), so one read covers a few sealer batches (a batch costs its
queries and its transaction whatever its size). Once a round has caught up with the heads it
read, the follower waits for the next notification instead of reading again at once.

One transaction per batch: the position row is locked, the entries from it are read and
decoded, the projection applies them and the new position is written, all in that transaction
(``_at_once``; the read's statements are built once, and in ``voxledger run`` the decoded entries
come from the process's :class:`~services.ledger.read_cache.SharedReads` when another projection
read them already). A batch with an entry that does not decode, or that ``handle`` fails on, is
rolled back and applied again by the isolating path below.

Erased sessions: in the applying transaction the batch's sessions' ledger rows are read ``FOR
KEY SHARE`` (:func:`~services.ledger.reader.lock_keys`) and events of a session whose key is gone
are dropped: key destruction takes ``FOR UPDATE`` first, so it waits for a batch that saw the key
alive, and the erasure's forgetters (which run after it) delete what that batch wrote.

Poison isolation as on the stream (:mod:`services.platform.isolation`): an entry that does not
decode, or that the projection fails on for a reason of its content, is dead-lettered (metadata
only: the event itself stays in the ledger at its position) and the projection carries on past
it. A server failure retries the batch whole after a growing, capped backoff.

Only one instance per projection name runs at a time: it holds a Postgres advisory lock for its
lifetime (a second waits as a standby; a killed process's lock goes with its connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger.models import ProjectionPosition
from services.ledger.reader import AudioMode, LedgerReader, SealedEvent, lock_keys
from services.ledger.repository import NOTIFY_CHANNEL
from services.platform.consumer import ConsumerStats, HookDefaults
from services.platform.deadletter import Letter, record_dead_letter
from services.platform.isolation import bisect_apply, is_transient
from services.platform.keys import KeyProvider

log = logging.getLogger(__name__)

P = ProjectionPosition
BACKOFF_MIN_S, BACKOFF_MAX_S = 0.5, 30.0
LOG_EVERY_S = 10.0

_BEHIND = text("""
SELECT t.tenant_id, t.size, coalesce(p.position, 0) AS position
  FROM ledger_trees t
  LEFT JOIN projection_positions p ON p.projection = :name AND p.tenant_id = t.tenant_id
 WHERE t.size > coalesce(p.position, 0) AND (CAST(:tenant AS text) IS NULL OR t.tenant_id = :tenant)
 ORDER BY t.tenant_id
""")

_ins = pg_insert(P)
_ADVANCE = _ins.on_conflict_do_update(
    index_elements=["projection", "tenant_id"],
    set_={"position": func.greatest(P.position, _ins.excluded.position), "updated_at": func.now()})
# Statements of every batch, as text: built and keyed once (a SQLAlchemy construct is compiled
# from its cache, but its cache key is computed again on every execution).
_POSITION_FOR_UPDATE = text("SELECT position FROM projection_positions "
                            "WHERE projection = :projection AND tenant_id = :tenant_id FOR UPDATE")
_START = text("INSERT INTO projection_positions (projection, tenant_id, position, updated_at) "
              "VALUES (:projection, :tenant_id, 0, now()) ON CONFLICT DO NOTHING")
# The row is locked by this transaction (_POSITION_FOR_UPDATE), which read from its position.
_ADVANCE_TO = text("UPDATE projection_positions SET position = :position, updated_at = now() "
                   "WHERE projection = :projection AND tenant_id = :tenant_id")


class _Isolate(Exception):
    """A batch holds an entry that does not decode: it is applied by the isolating path."""


class Projection(Protocol):
    """Every hook a follower calls; a projection inherits :class:`ProjectionDefaults`."""

    name: str
    tenant: str | None  # follow one tenant only (None: all, a position per tenant)
    # "bytes": each entry's audio bytes; "lengths": their lengths only; "none": audio frames'
    # payloads not needed (empty, or as parsed for another projection), for projections that
    # only count them
    audio: AudioMode
    system_only: bool  # only the recorder's own (system) events; the rest are skipped unread
    # Seconds between the starts of two reads after a wake, so a live projection whose freshness
    # is not measured in milliseconds applies a few sealer batches at once (each batch costs its
    # queries and transaction whatever its size); 0 reads at once. Counted from the start of the
    # previous round, maintenance included: a round that took longer is followed at once (the
    # batches sealed meanwhile are there), as the consumers' linger counts from their last fetch.
    linger: float
    # Database connections it may hold at once beyond its follower's two (a round, its
    # maintenance): the runner sizes its process's pool with it, since a connection over the
    # pool's size is opened for one checkout and closed after it.
    extra_connections: int

    async def handle(self, conn: AsyncConnection, batch: list[SealedEvent]) -> None:
        """Apply the events (one tenant's, in position order) inside ``conn``'s transaction.

        May raise :class:`~services.platform.isolation.Rejected` naming positions to dead-letter.
        """

    def warm_up(self) -> None:
        """Run once in a thread before the first read (models up front)."""

    async def maintain(self, engine: AsyncEngine) -> None:
        """After each round of batches and on every wake or poll; failures logged, not fatal."""

    async def close(self) -> None:
        """Release what the projection holds of its own at shutdown."""


class ProjectionDefaults(HookDefaults):
    tenant: str | None = None
    audio: AudioMode = "lengths"
    system_only: bool = False
    linger: float = 0.0
    extra_connections: int = 0


async def positions(conn: AsyncConnection, projection: str) -> dict[str, int]:
    rows = await conn.execute(select(P.tenant_id, P.position).where(P.projection == projection))
    return {str(t): int(p) for t, p in rows}


async def behind(conn: AsyncConnection, projection: str, tenant: str | None = None
                 ) -> list[tuple[str, int, int]]:
    """(tenant, head, position) of every tenant the projection has not caught up with."""
    rows = await conn.execute(_BEHIND, {"name": projection, "tenant": tenant})
    return [(str(t), int(s), int(p)) for t, s, p in rows]


class Follower:
    def __init__(self, engine: AsyncEngine, projection: Projection, reader: LedgerReader, *,
                 batch_size: int = 2000, poll_s: float = 1.0, keys: KeyProvider | None = None,
                 listen: bool = True) -> None:
        self.engine, self.handler, self.reader = engine, projection, reader
        self.batch_size, self.poll_s, self.keys, self.listen = batch_size, poll_s, keys, listen
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()
        self.stats = ConsumerStats()  # delivered: events applied
        self.notified = 0
        self._logged_at = 0.0
        self._more = False  # the last round left entries below a tenant's head unread
        self.warmed = asyncio.Event()  # set once the projection's warm_up has run

    @property
    def name(self) -> str:
        return self.handler.name

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()

    async def run(self) -> None:
        lock = func.hashtext(f"voxledger-projection:{self.name}")
        async with self.engine.connect() as lock_conn:
            await lock_conn.execute(select(func.pg_advisory_lock(lock)))
            await lock_conn.commit()
            listener = asyncio.create_task(self._listen()) if self.listen else None
            try:
                await asyncio.to_thread(self.handler.warm_up)
                self.warmed.set()
                await self._loop()
            finally:
                if listener is not None:
                    listener.cancel()
                    with contextlib.suppress(BaseException):
                        await listener
                with contextlib.suppress(Exception):
                    await lock_conn.execute(select(func.pg_advisory_unlock(lock)))

    async def _loop(self) -> None:
        backoff, failing = BACKOFF_MIN_S, 0
        while not self._stopping.is_set():
            self._woken.clear()
            started = time.monotonic()
            try:
                moved = await self.round()
            except Exception as exc:
                failing += 1
                self.stats.failures += 1
                log.warning("%s: batch not committed (%s: %s); attempt %d, retrying in %.1f s",
                            self.name, type(exc).__name__, str(exc)[:200], failing, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            if failing:
                log.warning("%s: resumed after %d failed attempt(s)", self.name, failing)
            backoff, failing = BACKOFF_MIN_S, 0
            await self._maintain()
            if moved and self._more:
                continue  # a backlog: the next batch at once
            # Caught up with the heads read: what was sealed since has notified (or the poll).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.poll_s)
            # The linger counts from the start of the round just done: what was sealed while it
            # ran is read at once when it took longer than that.
            rest = self.handler.linger - (time.monotonic() - started)
            if self._woken.is_set() and rest > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), rest)

    async def _maintain(self) -> None:
        try:
            await self.handler.maintain(self.engine)
        except Exception as exc:
            log.warning("%s: maintenance failed (%s: %s)", self.name, type(exc).__name__,
                        str(exc)[:200])

    async def round(self) -> int:
        """One bounded batch for every tenant behind; returns the positions covered."""
        async with self.engine.connect() as conn:
            todo = await behind(conn, self.name, self.handler.tenant)
        moved, self._more = 0, False
        for tenant, head, position in todo:
            moved += await self._batch(tenant, position, head)
            if time.monotonic() - self._logged_at >= LOG_EVERY_S:
                self._logged_at = time.monotonic()
                log.info("%s: tenant %s at %d of %d (%d behind); %d applied, %d dead-lettered",
                         self.name, tenant, position, head, head - position,
                         self.stats.delivered, self.stats.dead_lettered)
        return moved

    async def _batch(self, tenant: str, start: int, head: int | None = None) -> int:
        try:
            return await self._at_once(tenant, head)
        except _Isolate:
            pass
        except Exception as exc:
            if is_transient(exc):
                raise
        return await self._isolating(tenant, start, head)

    async def _at_once(self, tenant: str, head: int | None) -> int:
        """The batch read and applied in one transaction: the position row locked first, then
        the entries from it (their sessions' keys locked ``FOR KEY SHARE`` by the read), the
        effect, the new position. Raises :class:`_Isolate` (rolled back) when an entry does not
        decode, and whatever ``handle`` raises: :meth:`_isolating` then sets the bad ones aside."""
        async with self.engine.begin() as conn:
            done = await self._position_for_update(conn, tenant)
            batch = await self.reader.read(conn, tenant, done, self.batch_size,
                                           audio=self.handler.audio,
                                           system_only=self.handler.system_only, head=head)
            if any(e.reason for e in batch.events):
                raise _Isolate
            if batch.events:
                await self.handler.handle(conn, batch.events)
            if batch.next_position > done:
                await conn.execute(_ADVANCE_TO, {"projection": self.name, "tenant_id": tenant,
                                                 "position": batch.next_position})
        self.stats.delivered += len(batch.events)
        self.stats.batches += 1
        self._more = self._more or batch.next_position < batch.head
        return max(0, batch.next_position - done)

    async def _isolating(self, tenant: str, start: int, head: int | None = None) -> int:
        """The batch read apart and applied by :func:`bisect_apply`: entries that do not decode
        or that ``handle`` fails on are dead-lettered, the rest applied."""
        async with self.engine.connect() as conn:  # the read's locks end with it
            batch = await self.reader.read(conn, tenant, start, self.batch_size,
                                           audio=self.handler.audio,
                                           system_only=self.handler.system_only, head=head)
        events = batch.events
        last = events[-1].position if events else None

        async def commit(part: list[SealedEvent], letters: dict[int, str]) -> None:
            target = batch.next_position if not part or part[-1].position == last else (
                part[-1].position + 1)
            await self._commit(tenant, part, letters, target)

        outcome = await bisect_apply(events, lambda e: e.position, commit,
                                     {e.position: e.reason for e in events if e.reason})
        for pos, reason in sorted(outcome.letters.items()):
            log.warning("%s: dead-lettered tenant %s position %d (%s)", self.name, tenant, pos,
                        reason[:200])
        self.stats.delivered += len(events) - len(outcome.letters)
        self.stats.dead_lettered += len(outcome.letters)
        self.stats.batches += 1
        self._more = self._more or batch.next_position < batch.head
        return batch.next_position - start

    async def _commit(self, tenant: str, part: list[SealedEvent], letters: dict[int, str],
                      target: int) -> None:
        """One transaction: dead letters, the projection's effect and the position."""
        async with self.engine.begin() as conn:
            done = await self._position_for_update(conn, tenant)
            fresh = [e for e in part if e.position >= done]
            for e in fresh:
                if e.position in letters:
                    await record_dead_letter(conn, self.keys, self.name, Letter(
                        e.stream_seq, e.subject, letters[e.position], b"", tenant, e.session,
                        e.envelope.event_id))
            good = [e for e in fresh if e.position not in letters]
            if good:
                keys = await lock_keys(conn, tenant, {e.session for e in good})
                kept = [e for e in good if keys.get(e.session) is not None]
                if len(kept) < len(good):
                    log.warning("%s: %d event(s) of erased session(s) discarded", self.name,
                                len(good) - len(kept))
                good = kept
            if good:
                await self.handler.handle(conn, good)
            await conn.execute(_ADVANCE, {"projection": self.name, "tenant_id": tenant,
                                          "position": max(done, target)})

    async def _position_for_update(self, conn: AsyncConnection, tenant: str) -> int:
        params = {"projection": self.name, "tenant_id": tenant}
        done = (await conn.execute(_POSITION_FOR_UPDATE, params)).scalar()
        if done is None:  # the first batch of this projection and tenant
            await conn.execute(_START, params)
            done = (await conn.execute(_POSITION_FOR_UPDATE, params)).scalar_one()
        return int(done)

    async def _listen(self) -> None:
        """Set ``_woken`` on every NOTIFY of a tenant this projection follows."""
        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        delay = BACKOFF_MIN_S
        while not self._stopping.is_set():
            try:
                conn: Any = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._woken.set()  # anything sealed while not listening
                    delay = BACKOFF_MIN_S
                    async for note in conn.notifies():
                        if self.handler.tenant is None or note.payload == self.handler.tenant:
                            self.notified += 1
                            self._woken.set()
            except Exception as exc:
                log.warning("%s: LISTEN failed (%s); polling every %.1f s meanwhile",
                            self.name, type(exc).__name__, self.poll_s)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
