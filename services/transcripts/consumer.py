"""The transcript builder: a ledger :class:`~services.ledger.follower.Projection` named
``transcripts``.

Design. Interpreting a provider is whole-session work: a user transcript arrives after the next
response and joins on ``item_id``; a truncation reaches back into audio already queued; heard
text needs the generated audio length. Folding events into turns incrementally would duplicate
every interpreter's rules and break on late or out-of-order events. So the builder re-interprets
a session's frames as a whole (``services.providers.interpret``) and upserts turns and tool calls
by (tenant, session, id) in the batch's transaction. Its input is the sealed ledger, read through
:mod:`services.ledger.reader` with audio *lengths* only (each audio field holds zeros of its
length, which is all the interpreters read of it); it keeps no copy of the frames in Postgres.
Frames count once per seq, the first sealed winning (as in verify). The result is a function of
the *set* of sealed frames, not of arrival order: late or republished events land in the right
turn exactly once, and ``voxledger replay`` gets the same rows from the same function.

Cost: a rebuild interprets every frame of the session, and re-reading a whole session from the
ledger on every batch would make a call quadratic in its length. So:

- the builder keeps each live session's envelopes in memory (``cache.py``) and adds each batch's
  new ones: it re-reads the session's sealed entries only when that copy may be incomplete (a
  restart, a batch rolled back, an evicted session), which ``transcript_sessions.frames_version``
  tells exactly;
- with the envelopes it keeps the interpreter's state (``interpret_from``), so a live session's
  rebuild interprets only the frames that arrived since the last one, in seq order; a late frame
  inside what was interpreted starts over from the first frame;
- a batch that brings only audio frames of a session adds them without a rebuild (audio alone
  moves no text; the next event or ``session.ended`` rebuilds with it);
- while a call is live, a session is rebuilt at most once per window: a batch inside it adds its
  frames and marks the session due, and ``maintain`` (after each round of batches and on every
  wake or poll) rebuilds due sessions once their window has passed. The window is
  ``rebuild_every`` seconds, widened by a second per ``FRAMES_PER_WINDOW_SECOND`` frames the last
  rebuild saw: at ~100 frames a second, a 40 s call is rebuilt every second, a one-hour call
  about every 90 s;
- a batch is always rebuilt at once when it brings ``session.ended``, when the session had
  already ended (late events), or when this process has not rebuilt the session yet.

The window trades freshness of a live call's transcript for work; the rows of an ended session
are the same as rebuilding every batch from the ledger. ``rebuild_every=0`` turns the window off.

Transcript text never appears in logs or exceptions raised here; failures name the session only.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schemas.envelope import Direction, Envelope
from services.ledger.follower import ProjectionDefaults
from services.ledger.reader import AudioMode, SealedEvent, first_by_seq
from services.providers import interpret
from services.providers.interpret import interpret_from
from services.transcripts import repository
from services.transcripts.cache import Entry, FrameCache, Key
from services.transcripts.projection import EnvFacts, Transcript, project

if TYPE_CHECKING:
    from services.platform.settings import Settings

# Each this many frames of a live session widen its rebuild window by a second.
FRAMES_PER_WINDOW_SECOND = 4000


def transcribe(envs: list[Envelope]) -> Transcript:
    return project(interpret(envs), envs)


def transcribe_entry(entry: Entry) -> Transcript:
    """:func:`transcribe` of ``entry.envs``, continuing the entry's interpretation."""
    entry.progress = interpret_from(entry.progress, entry.envs)
    if entry.facts is None:
        entry.facts = EnvFacts()
    return project(entry.progress.builder.freeze(), entry.envs, entry.facts)


def rebuild(envs: list[Envelope]) -> Transcript:
    """The transcript of a session's sealed envelopes (position order): what the live builder
    writes, one frame per seq with the first sealed winning (``voxledger replay`` uses it)."""
    return transcribe(first_by_seq(envs))


def rebuild_window(rebuild_every: float, frames: int) -> float:
    """Seconds between two rebuilds of a live session whose last rebuild saw ``frames``."""
    if rebuild_every <= 0:
        return 0.0  # no window: every batch rebuilds (the reference the window is tested against)
    return max(rebuild_every, frames / FRAMES_PER_WINDOW_SECOND)


def _ends(env: Envelope) -> bool:
    return env.direction is Direction.SYSTEM and env.type == "session.ended"


class SessionEvents(Protocol):
    """Where a session's sealed frames are read again (the ledger's read port)."""

    async def session_events(self, conn: AsyncConnection, tenant: str, session: str, *,
                             audio: AudioMode = "lengths") -> list[SealedEvent] | None: ...


@dataclass(frozen=True, slots=True)
class Rebuilt:
    at: float  # monotonic time of this process's last rebuild of the session
    frames: int  # frames that rebuild saw


class TranscriptBuilder(ProjectionDefaults):
    name = "transcripts"
    linger = 0.25  # a live call's rows move once a window anyway (see above)

    def __init__(self, reader: SessionEvents, rebuild_every: float = 1.0,
                 cache: FrameCache | None = None, *, tenant: str | None = None) -> None:
        self.reader = reader  # audio lengths only: no S3 read
        self.tenant = tenant
        self.rebuild_every = rebuild_every
        self.cache = FrameCache() if cache is None else cache
        self._rebuilt: dict[Key, Rebuilt] = {}
        self._due: dict[Key, str] = {}  # sessions with frames added since, -> provider

    async def handle(self, conn: AsyncConnection, batch: list[SealedEvent]) -> None:
        by_session: dict[Key, list[Envelope]] = defaultdict(list)
        for e in batch:
            by_session[(e.tenant, e.session)].append(e.envelope)
        # Every session row of the batch locked at once, every new frames_version set at once:
        # two statements a batch, not three a session.
        locked = await repository.lock_sessions(
            conn, {key: envs[0].provider.value for key, envs in by_session.items()})
        versions: dict[Key, UUID] = {}
        for key, envs in sorted(by_session.items()):
            await self._apply(conn, key, envs, locked[key], versions)
        await repository.set_frames_versions(conn, versions)

    async def _load(self, conn: AsyncConnection, key: Key, version: UUID,
                    versions: dict[Key, UUID]) -> Entry | None:
        """The session's sealed frames, read again from the ledger (None: erased); the new
        ``version`` goes into ``versions`` (written by the caller in this transaction)."""
        events = await self.reader.session_events(conn, *key, audio="lengths")
        if events is None:
            return None
        entry = Entry(version)
        entry.add(first_by_seq(e.envelope for e in events), version)
        versions[key] = version
        return entry

    async def _apply(self, conn: AsyncConnection, key: Key, envs: list[Envelope],
                     locked: repository.Locked, versions: dict[Key, UUID]) -> None:
        provider = envs[0].provider.value
        # Out of the cache until this batch is done with it: a failure half-way leaves no entry.
        entry = self.cache.take(key, locked.frames_version)
        only_audio = all(e.kind == "audio" for e in envs)
        version = uuid.uuid4()
        if entry is None:
            if only_audio:
                return  # sealed: the next rebuild reads them from the ledger
            entry = await self._load(conn, key, version, versions)
            if entry is None:
                return
        else:
            new = [e for e in first_by_seq(envs) if e.seq not in entry.seqs]
            if not new or only_audio:
                if new:
                    entry.add(new, version)
                    versions[key] = version
                self._keep(key, entry)
                return
            entry.add(new, version)
            versions[key] = version
        last = self._rebuilt.get(key)
        if (not locked.ended and last is not None
                and time.monotonic() - last.at < rebuild_window(self.rebuild_every, last.frames)
                and not any(_ends(e) for e in envs)):
            self._due[key] = provider
            self._keep(key, entry)
            return
        n = await self._rebuild(conn, key, entry, versions)
        # Before commit: if the batch rolls back, the row keeps its old frames_version, so the
        # kept entry is not trusted and the retried batch rebuilds from the ledger.
        self._rebuilt[key] = Rebuilt(time.monotonic(), n)
        self._due.pop(key, None)

    async def _rebuild(self, conn: AsyncConnection, key: Key, entry: Entry | None,
                       versions: dict[Key, UUID]) -> int:
        """Rewrite the session's transcript from ``entry``, or from the ledger without one;
        returns how many frames it saw."""
        tenant, session = key
        if entry is None:
            entry = await self._load(conn, key, uuid.uuid4(), versions)
            if entry is None:
                return 0
        # Interpreting is CPU work: keep the event loop free for other consumers.
        transcript = await asyncio.to_thread(transcribe_entry, entry)
        # The rows are about to hold ``transcript``: under a new version unless this batch set
        # one already, so a rollback leaves an entry that is not trusted (see cache.py).
        if versions.get(key) != entry.version:
            entry.version = versions[key] = uuid.uuid4()
        written, entry.written = entry.written, None  # not known until the write is done
        await repository.write_transcript(conn, tenant, session, len(entry.envs), transcript,
                                          entry.version, written)
        versions.pop(key)  # the row has it now: written with the summary
        entry.written = transcript
        if transcript.summary.ended_at is None:  # an ended session gets late events at most
            self._keep(key, entry)
        return len(entry.envs)

    def _keep(self, key: Key, entry: Entry | None) -> None:
        if entry is not None:
            self.cache.put(key, entry, time.monotonic())

    async def maintain(self, engine: AsyncEngine) -> None:
        """Rebuild the sessions whose window passed with frames not rebuilt yet (all in one
        transaction: their rows locked in one statement, their versions set in one more)."""
        now = time.monotonic()
        due = {key: provider for key, provider in self._due.items()
               if (last := self._rebuilt.get(key)) is None
               or now - last.at >= rebuild_window(self.rebuild_every, last.frames)}
        if due:
            rebuilt: dict[Key, int] = {}
            async with engine.begin() as conn:
                locked = await repository.lock_sessions(conn, due)
                versions: dict[Key, UUID] = {}
                for key in sorted(due):
                    entry = self.cache.take(key, locked[key].frames_version)
                    rebuilt[key] = await self._rebuild(conn, key, entry, versions)
                await repository.set_frames_versions(conn, versions)
            # After commit: a failure leaves them all due (an entry kept by a rebuild that
            # rolled back holds a version the row does not, so it is not trusted).
            for key, n in rebuilt.items():
                self._rebuilt[key] = Rebuilt(time.monotonic(), n)
                del self._due[key]
        # Forget quiet sessions: one not remembered is simply rebuilt on its next event.
        for key, rebuilt_at in list(self._rebuilt.items()):
            if key not in self._due and now - rebuilt_at.at > 60 * self.rebuild_every:
                del self._rebuilt[key]
        self.cache.evict_idle(now)


def make_transcripts(settings: Settings, **options: Any) -> TranscriptBuilder:
    from services.ledger.reader import make_reader

    return TranscriptBuilder(make_reader(settings), **options)
