"""The audio recorder: builds each session's recordings as the ledger commits its entries.

Input choice. The recorder follows the sealer's *committed* entries and raw audio segments, like
every projection (no consumer but the sealer reads the raw stream). Then the live recording and
the rebuild read the same bytes through the same code (``job.py``), so they agree by construction
(law 3); a crashed recorder resumes by replaying the session from the ledger (which never loses
anything) and checking the parts it had stored, instead of needing NATS to redeliver audio it
already acked; and it never records a frame the ledger refused. The cost is latency (a recording
trails the sealer by one poll) and, after a crash, replay work proportional to the session so far.

As a :class:`~services.ledger.follower.Projection` it follows the ledger's system events only to
be woken up (the follower wakes it on the sealer's NOTIFY); the work happens in ``maintain``
(after each round of batches and on every wake or poll): find
sessions whose recording is not complete, take a per-session advisory lock (one writer per
recording across processes; a killed process's locks go with its connection), feed new entries in
``seq`` order (stopping at a hole until the session ends), upload full parts, persist the upload
state, and at ``session.ended`` (or the idle timeout) complete both objects and record hashes.

Concurrency. A poll steps up to ``STEP_CONCURRENCY`` sessions at once (ending sessions first:
their completion is the longest step), so their S3 round trips, key unwraps, database statements
and rendering (``RENDER_THREADS`` at a time) overlap, and it stores the stepped recordings'
progress (``last_seq``) every ``PROGRESS_EVERY_S`` rather than at the end of the round. A session
is stepped by one task at a time (polls do not overlap); the advisory locks share one connection
(``locks.py``); a progress row is written only once its step is over, so after the parts it
stored. Crash safety is unchanged: the stored parts and the replay of the session from the
ledger are what a resumed job relies on, never the progress.

Errors: :class:`~services.audio.job.RecordingDiverged` and
:class:`~services.audio.store.UploadGone` abandon an upload so the next poll starts it over;
:class:`~services.audio.locks.LocksLost` drops every job (each resumes by replay); any other
failure is logged with the session id only and retried after a growing delay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.audio import opening, store
from services.audio.job import RecordingDiverged, SessionJob
from services.audio.locks import LocksLost, SessionLocks
from services.audio.recording import MIN_PART
from services.audio.render import UNHEARD
from services.audio.source import BatchObjects, entries_after, entries_after_many
from services.ledger.follower import ProjectionDefaults
from services.ledger.reader import SealedEvent
from services.platform.keys import KeyProvider
from services.platform.settings import Settings

log = logging.getLogger(__name__)

ROWS_PER_STEP = 2000
STEP_RETRY_MAX_S = 60.0  # a failing session is retried at least this often (an outage ends)
# Sessions stepped at once: their S3 round trips, key unwraps and threads overlap, and a long
# step (an opening, a completion) no longer holds every other session's progress back.
STEP_CONCURRENCY = 6
# Of those, rendering at once (``SessionJob.process``, CPU in a thread): more threads only
# contend for the GIL (6 at once cost a quarter more CPU per entry than 1; 2 some 5% more, for
# no lower lag on two cores shared with the sealer); the other steps' I/O still overlaps it.
RENDER_THREADS = 1
# A long poll stores its stepped recordings' progress this often (a statement each), not once
# at its end: an entry then waits for its own session's step, not for every session's.
PROGRESS_EVERY_S = 0.1


class AudioRecorder(ProjectionDefaults):
    # Its input is read in ``maintain`` (entries and raw segments by session and seq); the
    # follower only needs to wake it, so it reads no entry but the system ones.
    system_only = True
    # Each wake steps every open session (a query, a read of the new raw parts, a transaction):
    # gathering a few sealer batches per step costs far less, for at most this much more lag
    # (a poll that took longer is followed at once: the follower counts it from a poll's start).
    linger = 0.2

    def __init__(self, settings: Settings, keys: KeyProvider, s3: Any, *,
                 tenant: str | None = None, part_size: int = MIN_PART,
                 concurrency: int = STEP_CONCURRENCY) -> None:
        if not 1 <= concurrency <= 64:
            raise ValueError("concurrency must be 1..64")
        self.name = "audio" if tenant is None else f"audio-{tenant}"
        self.settings, self.keys, self.s3, self.tenant = settings, keys, s3, tenant
        self.uploads = store.Uploads(s3, settings.bucket_audio)
        self.objects = BatchObjects(s3, settings.bucket_ledger)  # one GET per sealer batch
        self.part_size = part_size
        self.jobs: dict[tuple[str, str], SessionJob] = {}
        self.completed = 0
        self.locks = SessionLocks()
        self.concurrency = concurrency
        # Its steps' (an opening, a parts list) and the session locks' own connection, so the
        # runner's pool holds them rather than connecting afresh for each (4 for 6 steps did).
        self.extra_connections = concurrency + 1
        self._rendering = asyncio.Semaphore(min(concurrency, RENDER_THREADS))
        self._busy = asyncio.Lock()
        # A session whose step keeps failing (a destroyed key, a bug on one frame) is retried
        # after a growing delay, not on every poll: consecutive failures and when to try next.
        self._failing: dict[tuple[str, str], tuple[int, float]] = {}

    async def handle(self, conn: AsyncConnection, batch: list[SealedEvent]) -> None:
        """Nothing to write here: a system event only means "look at the ledger again"."""

    async def maintain(self, engine: AsyncEngine) -> None:
        await self.poll(engine)

    async def poll(self, engine: AsyncEngine, stop_after_rows: int | None = None) -> int:
        """One round over open sessions; returns rows fed. ``stop_after_rows`` is for tests."""
        async with self._busy:
            async with engine.connect() as conn:
                sessions = await store.open_sessions(conn, self.tenant)
                sessions = [s for s in sessions if not self._waiting((s.tenant_id, s.session_id))]
                # The new entries of every session this process records, in one statement
                # (a query per session and wake cost more client CPU than the rows).
                after = {(s.tenant_id, s.session_id): job.last_seq for s in sessions
                         if (job := self.jobs.get((s.tenant_id, s.session_id))) is not None
                         and not self._idle(job, s)}
                ahead = await entries_after_many(conn, after, ROWS_PER_STEP)
            # Ending sessions first: their last entries wait for the completion, the slowest step.
            sessions.sort(key=lambda s: not _closing(s))
            gate = asyncio.Semaphore(self.concurrency)

            async def step(s: Any) -> tuple[tuple[str, str], int]:
                async with gate:
                    key = (s.tenant_id, s.session_id)
                    job = self.jobs.get(key)
                    # Read for the job's position: still good unless a failure dropped the job.
                    rows = ahead.get(key) if job is not None and job.last_seq == after.get(key) \
                        else None
                    return key, await self._step_logged(engine, s, stop_after_rows, rows)

            tasks = [asyncio.create_task(step(s)) for s in sessions]
            fed, stepped, left, failed = 0, [], len(tasks), None
            saved_at = time.monotonic()
            try:
                for next_done in asyncio.as_completed(tasks):
                    key, n = await next_done
                    fed, left = fed + n, left - 1
                    if n:
                        stepped.append(key)
                    if stepped and (not left or time.monotonic() - saved_at >= PROGRESS_EVERY_S):
                        try:
                            await self._save_progress(engine, stepped)
                        except Exception as exc:  # the steps run on: a thread cannot be stopped
                            failed = failed or exc
                        stepped, saved_at = [], time.monotonic()
            except BaseException:
                for task in tasks:  # cancelled (shutdown): see _step_logged
                    task.cancel()
                raise
            if failed is not None:
                raise failed
            return fed

    async def _save_progress(self, engine: AsyncEngine, stepped: list[tuple[str, str]]) -> None:
        """How far each stepped recording was fed (the bench's audio lag reads it), in one
        statement; only steps that are over, so their parts are stored first (_save_parts)."""
        fed_to = {key: job.last_seq for key in stepped
                  if (job := self.jobs.get(key)) is not None and job.last_seq > job.persisted_seq}
        if fed_to:
            async with engine.begin() as conn:
                await store.save_progress(conn, fed_to)
            for key, seq in fed_to.items():
                if (job := self.jobs.get(key)) is not None:
                    job.persisted_seq = max(job.persisted_seq, seq)

    async def _step_logged(self, engine: AsyncEngine, s: Any, stop_after_rows: int | None,
                           rows: Sequence[Any] | None) -> int:
        """:meth:`_step` with its failures handled: logged with ids only, retried later."""
        key = (s.tenant_id, s.session_id)
        try:
            fed = await self._step(engine, s.tenant_id, s.session_id, _closing(s),
                                   stop_after_rows, s.max_seq, rows)
            self._failing.pop(key, None)
            return fed
        except (RecordingDiverged, store.UploadGone) as exc:
            log.error("audio %s/%s: %s; starting the upload over", s.tenant_id, s.session_id,
                      exc)
            try:
                await self._abandon(engine, s.tenant_id, s.session_id)
            except Exception as again:  # the next poll finds the upload diverging again
                log.warning("audio %s/%s: abandoning failed (%s)", s.tenant_id, s.session_id,
                            type(again).__name__)
                await self._drop(s.tenant_id, s.session_id)
        except asyncio.CancelledError:
            # The job's thread may still be running: forget the job (a later one resumes by
            # replay); its lock goes with the process, which is stopping.
            self.jobs.pop(key, None)
            raise
        except Exception as exc:
            failures = self._failing.get(key, (0, 0.0))[0] + 1
            delay = min(2.0 ** failures, STEP_RETRY_MAX_S)
            self._failing[key] = (failures, time.monotonic() + delay)
            log.warning("audio %s/%s: step failed (%s); attempt %d, retrying in %.0f s",
                        s.tenant_id, s.session_id, type(exc).__name__, failures, delay,
                        exc_info=log.isEnabledFor(logging.DEBUG))
            await self._drop(s.tenant_id, s.session_id)
        return 0

    def _waiting(self, key: tuple[str, str]) -> bool:
        """A session whose step failed lately, not to be retried yet."""
        return key in self._failing and time.monotonic() < self._failing[key][1]

    @staticmethod
    def _idle(job: SessionJob, s: Any) -> bool:
        """Nothing sealed for the session since its last step (the sealer raises max_seq in the
        transaction that commits the entries): a stale max_seq only delays to the next poll."""
        return not _closing(s) and s.max_seq is not None and s.max_seq <= job.last_seq

    async def close(self) -> None:
        for key in list(self.jobs):
            await self._drop(*key)
        await self.locks.close()

    # -- one session ---------------------------------------------------------------------------
    async def _step(self, engine: AsyncEngine, tenant: str, session: str, closing: bool,
                    stop_after_rows: int | None, max_seq: int | None = None,
                    rows: Sequence[Any] | None = None) -> int:
        """Feed the session's new entries (``rows``: the first of them, read by the caller for
        the job's ``last_seq``), upload full parts, complete the recordings when ``closing``."""
        job = self.jobs.get((tenant, session))
        if job is not None and not closing and max_seq is not None and max_seq <= job.last_seq:
            return 0  # nothing sealed since the last step (see _idle)
        if job is None:
            if not await self._take(engine, tenant, session):
                return 0  # another process records this session
            job = await self._open(engine, tenant, session)
            if job is None:
                await self._release(tenant, session)
                return 0
            self.jobs[(tenant, session)] = job
        fed = 0
        while True:
            if rows is None:
                async with engine.connect() as conn:
                    rows = await entries_after(conn, tenant, session, job.last_seq,
                                               ROWS_PER_STEP)
            batch: list[Any] = []
            for row in rows:
                if row.seq <= job.last_seq or (batch and row.seq == batch[-1].seq):
                    continue  # a duplicate seq: the first sealed wins, as in verify
                if not closing and row.seq != (batch[-1].seq if batch else job.last_seq) + 1:
                    break  # a hole: wait for it to be sealed, or for the session to end
                batch.append(row)
            if stop_after_rows is not None:
                batch = batch[:max(0, stop_after_rows - fed)]
            if batch:
                async with self._rendering:
                    await asyncio.to_thread(job.process, batch)
                fed += len(batch)
                await self._save_parts(engine, job)
            if stop_after_rows is not None and fed >= stop_after_rows:
                return fed
            if len(rows) < ROWS_PER_STEP or not batch:
                break
            rows = None
        if closing:
            if fed:
                # Every entry is fed: say so now (progress only, as in poll), not after the
                # flush, the last parts and both completions, S3 round trips the session's last
                # entries used to wait for (bench/audio_lag_parts.py: its "to progress" share).
                await self._save_progress(engine, [(tenant, session)])
            self._still_held(job)
            await asyncio.to_thread(job.finish_render)
            # The two recordings' last parts and completions are S3 round trips: at once. Once
            # they are done the rows must say so, lock or not: a resumed job would find the
            # uploads gone (store.UploadGone starts them over).
            kinds = list(job.kinds)
            done = await asyncio.gather(*(asyncio.to_thread(job.finish_kind, k) for k in kinds))
            async with engine.begin() as conn:
                for kind, values in zip(kinds, done, strict=True):
                    await store.complete(conn, tenant, session, kind, values)
            self.completed += 1
            log.info("audio %s/%s: recordings complete", tenant, session)
            await self._drop(tenant, session)
        return fed

    def _still_held(self, job: SessionJob) -> None:
        """Before a write: the job was not dropped while its thread ran (its lock is lost)."""
        if self.jobs.get((job.tenant, job.session)) is not job:
            raise LocksLost("the session's job was dropped during its step")

    async def _save_parts(self, engine: AsyncEngine, job: SessionJob) -> None:
        """Store the lists of uploaded parts that grew, at once: they must survive a crash (a
        resumed job replays the session and checks its parts against them). A step that uploaded
        nothing writes nothing here (it used to write both rows on every step); the poll stores
        the progress (``last_seq``) of the sessions it stepped a few steps at a time."""
        self._still_held(job)
        grown = [st for st in job.kinds.values() if len(st.parts) != job.persisted[st.kind]]
        if not grown:
            return
        async with engine.begin() as conn:
            for st in grown:
                await store.save_parts(conn, job.tenant, job.session, st.kind, st.parts,
                                       job.last_seq)
        for st in grown:
            job.persisted[st.kind] = len(st.parts)
        job.persisted_seq = job.last_seq

    async def _open(self, engine: AsyncEngine, tenant: str, session: str) -> SessionJob | None:
        return await opening.open_job(engine, self.settings, self.keys, self.s3, self.uploads,
                                      self.objects, tenant, session, self.part_size)

    async def _abandon(self, engine: AsyncEngine, tenant: str, session: str) -> None:
        await opening.abandon(engine, self.uploads, self.jobs.get((tenant, session)), tenant,
                              session)
        await self._drop(tenant, session)

    async def _drop(self, tenant: str, session: str) -> None:
        if self.jobs.pop((tenant, session), None) is not None:
            await self._release(tenant, session)

    async def _take(self, engine: AsyncEngine, tenant: str, session: str) -> bool:
        try:
            return await self.locks.take(engine, tenant, session)
        except LocksLost:
            self._lost_locks()
            raise

    async def _release(self, tenant: str, session: str) -> None:
        try:
            await self.locks.release(tenant, session)
        except LocksLost:
            self._lost_locks()

    def _lost_locks(self) -> None:
        """The lock connection broke (Postgres restarted): every lock it held is gone, so drop
        every job (they resume from their persisted upload state; a step still running finds
        its job gone before its next write, ``_still_held``)."""
        self.jobs.clear()


def _closing(s: Any) -> bool:
    """The session ended (or timed out): its recordings are completed by this step."""
    return bool(s.ended or s.timed_out_at is not None)


def make_audio_recorder(settings: Settings) -> AudioRecorder:
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client

    return AudioRecorder(settings, key_provider(settings),
                         make_s3_client(settings))


__all__ = ["UNHEARD", "AudioRecorder", "make_audio_recorder"]
