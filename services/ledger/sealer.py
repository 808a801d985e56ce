"""The sealer: the ledger's single ordered writer (DESIGN.md "Ledger").

Runs as a :class:`~services.platform.consumer.PullConsumer` handler in ordered mode, so batches
arrive in JetStream stream order and nothing is applied twice. Per batch and tenant, in the
consumer's one transaction: lock the tenant's tree row, drop events already sealed (counted per
session), assign gapless positions, encrypt payloads with the session key, write the batch's one
raw audio object to S3 (in a thread while the rows go in, and always finished before commit: a
deterministic key makes a retry overwrite its own object), COPY the entries, write the audio
index, session counters and tree frontier, and sign a checkpoint at session end or when the last
one is older than the cadence. A batch is three round trips and the commit
(``batch_repository.py``: one statement before ``plan_batch``, the COPY, one statement after that
also moves the consumer's progress row, and a checkpoint's when one is due). WORM copies of
checkpoints are written after commit (an outbox: a crash in between is repaired by
:meth:`Sealer.maintain`), because a checkpoint of a batch that then rolled back must never sit
undeletable in a compliance-locked bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schemas.envelope import encode_envelope
from services.ledger import batch_repository as batch_repo
from services.ledger import repository as repo
from services.ledger.buffer import StreamBuffer
from services.ledger.checkpoint import Checkpoint, origin_for, sign_checkpoint
from services.ledger.journal_ids import is_reserved_session
from services.ledger.sealing import Fresh, SealPlan, group_by_tenant, plan_batch
from services.ledger.storage import LedgerStorage, checkpoint_key
from services.ledger.witnessing import WitnessSubmitter
from services.platform.consumer import Delivered, HandlerDefaults, ProgressStep
from services.platform.deadletter import Letter, record_dead_letter
from services.platform.isolation import Rejected
from services.platform.keys import KeyError_, KeyProvider, new_dek, subject_index
from services.platform.settings import Settings
from services.platform.signing import Signer, load_signer

log = logging.getLogger(__name__)

CHECKPOINT_CADENCE_S = 5.0
_DEK_CACHE = 10_000
WORM_FLUSH_LIMIT = 100  # outbox rows per flush (a full one is followed by another)


class Sealer(HandlerDefaults):
    ordered = True
    merges_progress = True

    def __init__(self, settings: Settings, keys: KeyProvider, storage: LedgerStorage, *,
                 tenant: str | None = None, cadence_s: float = CHECKPOINT_CADENCE_S,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sign: bool = True, signer: Signer | None = None) -> None:
        # One tenant's partition (scale-out, and test isolation) or every tenant. Trees are per
        # tenant, so partitions by tenant never contend; a tenant must be in one partition only.
        self.name = "sealer" if tenant is None else f"sealer-{tenant}"
        self.tenant = tenant
        self.filter_subjects = [f"{settings.subject_prefix}.{tenant or '*'}.>"]
        self.settings = settings
        self.keys = keys
        self.storage = storage
        # The checkpoint key is its own identity (issue 16), never derived from the data keyring;
        # a non-signing sealer (the journal's) never opens it.
        self.signer = signer if signer is not None or not sign else load_signer(
            settings.signing_keys_dir)
        self.witnesses = WitnessSubmitter(settings.witness_urls, settings.witness_timeout_s,
                                          settings.witness_max_attempts)
        self.cadence_s = cadence_s
        self.clock = clock
        # The journal (services/ledger/journal.py) seals control events without the signing key:
        # the sealer's maintain() checkpoints them within the cadence.
        self.sign = sign
        self._deks: dict[tuple[str, str, bytes], bytes] = {}
        self._last_maintain = 0.0
        # A checkpoint may wait in the WORM outbox: one of ours since the last flush, or (at
        # start) one a crashed process left. Otherwise the outbox is read on the cadence only,
        # not after every batch (that query was 7% of the sealer's CPU at 6 live sessions).
        self._worm_due = True
        self._worm_gen = 0  # checkpoints made so far: one made during a flush keeps it due
        self._flushing: asyncio.Task[None] | None = None
        self._worm_lock = asyncio.Lock()  # one flush at a time (a WORM key is put once)
        self._nc: Any = None
        self.buffer: StreamBuffer | None = None
        self._sweeping: asyncio.Task[int] | None = None
        self.sealed = 0

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        await self.handle_and_advance(conn, batch, None)

    async def handle_and_advance(self, conn: AsyncConnection, batch: list[Delivered],
                                 step: ProgressStep | None) -> None:
        # Reserved ids (the journal) are written by Voxledger itself, never by a gateway: the
        # consumer dead-letters them (once, encrypted) and seals the rest of the batch.
        reserved = {d.key: "reserved session id (starts with '_')" for d in batch
                    if is_reserved_session(d.envelope.session_id)}
        if reserved:
            raise Rejected(reserved)
        items = [Fresh(d.stream_seq, d.subject, d.envelope, d.member)
                 for d in sorted(batch, key=lambda d: d.key)]
        now = self.clock()
        tenants = sorted(group_by_tenant(items).items())
        for n, (tenant, fresh) in enumerate(tenants, 1):
            # The consumer's progress goes in with the last tenant's closing statement.
            await self.seal_tenant(conn, tenant, fresh, now, step if n == len(tenants) else None)

    async def seal_tenant(self, conn: AsyncConnection, tenant: str, items: list[Fresh],
                          now: datetime, step: ProgressStep | None = None) -> None:
        """Seal one tenant's fresh events inside the caller's transaction (tree row locked);
        ``step``: the consumer's progress, written by the batch's closing statement."""
        ids = [i.envelope.event_id for i in items]
        pairs = [(i.envelope.session_id, i.envelope.seq) for i in items]
        session_ids = sorted({i.envelope.session_id for i in items})
        opened = (await batch_repo.open_batch(conn, tenant, ids, pairs, session_ids)
                  or await batch_repo.open_batch_slowly(conn, tenant, ids, pairs, session_ids))
        await batch_repo.add_sessions(conn, opened, tenant, session_ids,
                                      lambda s: self.keys.wrap_dek(tenant, new_dek(), s))
        tree, sessions, known = opened.tree, opened.sessions, opened.known_ids
        fresh: list[Fresh] = []
        duplicates: Counter[str] = Counter()
        seen: set[str] = set()
        for item in items:
            eid = item.envelope.event_id
            if eid in known or eid in seen:
                duplicates[item.envelope.session_id] += 1
                continue
            seen.add(eid)
            fresh.append(item)
        erased = {s for s, st in sessions.items() if st.wrapped_dek is None}
        if erased and any(i.envelope.session_id in erased for i in fresh):
            # Late events of an erased session (issue 14): discarded, never re-keyed and never
            # dead-lettered (a dead letter would keep the erased content in clear).
            dropped = sum(1 for i in fresh if i.envelope.session_id in erased)
            fresh = [i for i in fresh if i.envelope.session_id not in erased]
            log.warning("sealer: %d event(s) of erased session(s) discarded", dropped)
        # (session, seq) pairs of fresh events already sealed under another event id: a
        # recorder bug, counted once per pair.
        conflicts = Counter(s for s, _ in {(i.envelope.session_id, i.envelope.seq)
                                           for i in fresh} & opened.known_seqs)
        deks: dict[str, bytes] = {}
        shredded: dict[int, str] = {}
        for item in fresh:
            session = item.envelope.session_id
            if session in deks:
                continue
            try:
                deks[session] = self._dek(tenant, session, sessions[session].wrapped_dek)
            except KeyError_:
                # Erased (key destroyed) or its wrapped key unreadable: these events can never
                # be sealed. Dead-letter them, one by one, and seal the rest of the batch.
                shredded.update({i.key: "session_key_destroyed" for i in fresh
                                 if i.envelope.session_id == session})
        if shredded:
            raise Rejected(shredded)
        pepper = self.keys.pepper(tenant)
        plan = plan_batch(tenant, fresh, tree.frontier.size, deks,
                          {s: st.max_seq for s, st in sessions.items()},
                          lambda norm: subject_index(pepper, norm))
        # The batch's audio object is written while the rows go in: they are invisible until
        # the transaction commits, and it commits only once the object is written (the caller
        # commits after this returns), so no committed row ever lacks its object. An object
        # whose rows roll back is an orphan, overwritten by the retry (its key is the batch's
        # first position).
        put = (asyncio.ensure_future(asyncio.to_thread(
            self.storage.put_segment, plan.object_key, plan.object_body))
            if plan.object_key is not None else None)
        try:
            await self._write(conn, tree, plan, sessions, duplicates, conflicts, now, step)
        except BaseException as exc:
            if put is not None:
                # Never leave the put running past a failed attempt: its late write could land
                # over the retry's object (same key) after the retry committed.
                await asyncio.wait({put})
                failed = None if put.cancelled() else put.exception()
                if failed is not None:  # an S3 outage is the failure to report (transient)
                    raise failed from exc
            raise
        if put is not None:
            await put
        self.sealed += len(plan.entries)

    async def _write(self, conn: AsyncConnection, tree: repo.TreeState, plan: SealPlan,
                     sessions: dict[str, repo.SessionState], duplicates: Counter[str],
                     conflicts: Counter[str], now: datetime, step: ProgressStep | None) -> None:
        tenant = tree.tenant_id
        await repo.copy_entries(conn, plan.entries)
        await repo.insert_subjects(conn, plan.subjects)
        for item, reason in plan.problems:
            env = item.envelope
            await record_dead_letter(conn, self.keys, self.name, Letter(
                item.stream_seq, item.subject, f"sealed without audio extraction: {reason}",
                encode_envelope(env), env.tenant_id, env.session_id, env.event_id, item.member))
        tree.frontier.extend(plan.leaves)
        due = (tree.checkpoint_at is None
               or (now - tree.checkpoint_at).total_seconds() >= self.cadence_s)
        if self.sign and tree.frontier.size > tree.checkpoint_size and (plan.ended_sessions or due):
            await self._checkpoint(conn, tree, "session-end" if plan.ended_sessions else "cadence",
                                   now)
        # Audio index, parts, session counters, tree and (if anything was sealed) the notice
        # that wakes every projection following this tenant's ledger, delivered on commit.
        await batch_repo.finish_batch(
            conn, tree, plan.audio_refs, [{
                "key": s.key, "tenant_id": tenant, "session_id": s.session_id,
                "direction": s.direction, "first_position": s.first_position,
                "length": len(s.plaintext), "ct_sha256": _sha256(s.ciphertext),
                "object_key": s.object_key, "object_offset": s.at,
                "object_length": len(s.ciphertext), "codec": s.codec} for s in plan.segments],
            [(session, plan.sessions.get(session), duplicates[session], conflicts[session])
             for session in sorted(set(sessions))],
            notify=bool(plan.entries), progress=step)

    async def _checkpoint(self, conn: AsyncConnection, tree: repo.TreeState, reason: str,
                          now: datetime) -> None:
        size, root = tree.frontier.size, tree.frontier.root()
        origin = origin_for(tree.tenant_id)
        if self.signer is None:
            raise RuntimeError("this sealer does not sign (sign=False)")
        note = sign_checkpoint(Checkpoint(origin, size, root), self.signer.key)
        await repo.insert_checkpoint(conn, tree.tenant_id, size, root, note, reason,
                                     checkpoint_key(tree.tenant_id, size))
        tree.checkpoint_size, tree.checkpoint_at = size, now
        self._worm_due = True
        self._worm_gen += 1

    def _dek(self, tenant: str, session: str, wrapped: bytes | None) -> bytes:
        if wrapped is None:
            # An erased session got new events: refuse rather than re-key silently.
            raise KeyError_("session key was destroyed")
        # Keyed by the wrapped bytes too: a session's key created in a batch that rolled back is
        # replaced by a new one on retry, and a cache by session alone would keep encrypting
        # under the key that was never stored (found by the SeaweedFS outage test).
        key = (tenant, session, bytes(wrapped))
        dek = self._deks.get(key)
        if dek is None:
            dek = self.keys.unwrap_dek(tenant, wrapped, session)
            if len(self._deks) >= _DEK_CACHE:
                self._deks.pop(next(iter(self._deks)))
            self._deks[key] = dek
        return dek

    async def maintain(self, engine: AsyncEngine) -> None:
        """After each commit and when idle: WORM outbox, trailing checkpoints, idle sessions."""
        if self._worm_due and (self._flushing is None or self._flushing.done()):
            # In the background: the WORM put and its outbox transaction held the next batch
            # back after every checkpoint (~26 ms at 30 sessions). One flush at a time.
            self._flushing = asyncio.ensure_future(self._flush_logged(engine))
        if time.monotonic() - self._last_maintain < self.cadence_s:
            return
        self._last_maintain = time.monotonic()
        async with engine.begin() as conn:
            for tenant in await repo.stale_tenants(conn, self.cadence_s):
                tree = await repo.lock_tree(conn, tenant)
                if tree.frontier.size > tree.checkpoint_size:
                    await self._checkpoint(conn, tree, "cadence", self.clock())
                    await repo.save_tree(conn, tree)
            timed_out = await repo.mark_timed_out(conn, self.settings.session_idle_timeout_s)
            if timed_out:
                log.warning("sealer: %d session(s) without session.ended after %.0fs", timed_out,
                            self.settings.session_idle_timeout_s)
        await self.flush_worm(engine)
        try:
            await self.witnesses.run(engine, self.storage, self.tenant)
        except Exception as exc:  # witnesses never stop sealing (bounded tries inside)
            log.warning("sealer: witness submission failed (%s)", type(exc).__name__)
        # Off the batch path: a sweep purges each ended session with a NATS purge and a
        # transaction of its own, and sessions that ended together are swept together, which
        # held the next batch (and every event's sealed lag) back for all of them. One at a time.
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.ensure_future(self.sweep_buffer(engine))

    async def sweep_buffer(self, engine: AsyncEngine) -> int:
        """Purge ended, sealed sessions from the raw stream (all-tenant sealer only: one sweeper
        per stream; a partition's consumers do not know the others')."""
        if not self.sign or self.tenant is not None or not self.settings.stream_purge_sealed:
            return 0
        if self.buffer is None:
            from services.platform.nats import connect

            self._nc = await connect(self.settings, name="sealer-buffer")
            self.buffer = StreamBuffer(self.settings, self._nc.jetstream())
        try:
            return await self.buffer.sweep(engine)
        except Exception as exc:  # NATS or Postgres away: the next maintain sweeps again
            log.warning("sealer: stream purge deferred (%s)", type(exc).__name__)
            return 0

    async def close(self) -> None:
        for task in (self._sweeping, self._flushing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._sweeping = self._flushing = None
        if self._nc is not None:
            await self._nc.close()
            self._nc = None

    async def _flush_logged(self, engine: AsyncEngine) -> None:
        try:
            await self.flush_worm(engine)
        except Exception as exc:  # S3 or Postgres away: the outbox keeps it for the next flush
            log.warning("sealer: WORM flush deferred (%s)", type(exc).__name__)

    async def flush_worm(self, engine: AsyncEngine) -> None:
        async with self._worm_lock:
            gen = self._worm_gen
            self._worm_due = True  # until this flush has emptied the outbox (S3 may be away)
            async with engine.connect() as conn:
                pending = await repo.pending_worm(conn, WORM_FLUSH_LIMIT)
            for tenant, size, key, note in pending:
                await asyncio.to_thread(self.storage.put_checkpoint, key, note)
                async with engine.begin() as conn:
                    await repo.mark_worm_written(conn, tenant, size)
            self._worm_due = len(pending) >= WORM_FLUSH_LIMIT or self._worm_gen != gen


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def make_sealer(settings: Settings) -> Any:
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client

    return Sealer(settings, key_provider(settings),
                  LedgerStorage(settings, make_s3_client(settings)))
