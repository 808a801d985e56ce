"""The transcript consumer: ``BatchHandler`` named ``transcripts``.

Design. Interpreting a provider is whole-session work: a user transcript arrives after the next
response and joins on ``item_id``; a truncation reaches back into audio already queued; heard
text needs the generated audio length. Folding events into turns incrementally would duplicate
every interpreter's rules and break on late or out-of-order events. So the builder keeps, per
session, exactly what the interpreters read, minus the audio bytes (``frames.py``: non-audio
frames verbatim, audio frames with each audio field replaced by its length), in
``transcript_frames`` keyed by (tenant, session, seq). For each session a batch touches it inserts
the new frames (duplicates ignored), re-interprets the whole stored session with
``services.providers.interpret`` and upserts turns and tool calls by (tenant, session, id) in the
batch's transaction. The result is a function of the *set* of frames, not of arrival order:
late, duplicated or redelivered events land in the right turn exactly once, and a restart resumes
from Postgres (what the builder holds in memory is a copy of it, below).

Cost: a rebuild from scratch interprets every frame of the session, and even a continued one
freezes and projects the whole session, so rebuilding on every batch made a call quadratic in its
length. So:

- the builder keeps each live session's frames in memory, restored as the interpreter reads them
  (``cache.py``), and adds the frames each batch stores: a rebuild reads Postgres only when that
  copy may be incomplete (a restart, frames stored by another instance, a batch rolled back),
  which ``transcript_sessions.frames_version`` tells exactly;
- with the frames it keeps the interpreter's state (``interpret_from``), so a live session's
  rebuild interprets only the frames that arrived since the last one, in seq order; a late frame
  inside what was interpreted starts over from the first frame;
- a batch that brings only audio frames of a session stores them without a rebuild (audio alone
  moves no text; the next event or ``session.ended`` rebuilds with it);
- while a call is live, a session is rebuilt at most once per window: a batch inside it stores
  its frames and marks the session due, and ``maintain`` (after each committed batch and on idle
  fetches) rebuilds due sessions once their window has passed. The window is ``rebuild_every``
  seconds, widened by a second per ``FRAMES_PER_WINDOW_SECOND`` frames the last rebuild saw:
  at ~100 frames a second, a 40 s call is rebuilt every second, a one-hour call about every
  90 s. A rebuild costs time in proportion to the frames, so past ~4,000 frames a call's rebuild
  work per second of call stops growing with its length;
- a batch is always rebuilt at once when it brings ``session.ended``, when the session had
  already ended (late events), or when this process has not rebuilt the session yet (so a
  restart, or a second instance, never waits on state it does not have).

The window trades freshness of a live call's transcript (behind by up to the window: a second
for calls under ~4,000 frames, a minute or more deep into a long call) for work; the rows of an
ended session are the same as rebuilding every batch from Postgres. ``rebuild_every=0`` turns
the window off.

Transcript text never appears in logs or exceptions raised here; failures name the session only.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schemas.envelope import Direction, Envelope
from services.platform.consumer import Delivered, HandlerDefaults
from services.providers import interpret
from services.providers.interpret import interpret_from
from services.transcripts import repository
from services.transcripts.cache import Entry, FrameCache, Key
from services.transcripts.frames import StoredFrame, compact, restore
from services.transcripts.projection import Transcript, project

# Each this many frames of a live session widen its rebuild window by a second.
FRAMES_PER_WINDOW_SECOND = 4000


def transcribe(envs: list[Envelope]) -> Transcript:
    return project(interpret(envs), envs)


def transcribe_entry(entry: Entry) -> Transcript:
    """:func:`transcribe` of ``entry.envs``, continuing the entry's interpretation."""
    entry.progress = interpret_from(entry.progress, entry.envs)
    return project(entry.progress.builder.freeze(), entry.envs)


def restored(tenant: str, session: str, stored: list[StoredFrame]) -> list[Envelope]:
    return [restore(f, tenant, session) for f in stored]


def rebuild(tenant: str, session: str, stored: list[StoredFrame]) -> Transcript:
    return transcribe(restored(tenant, session, stored))


def rebuild_window(rebuild_every: float, frames: int) -> float:
    """Seconds between two rebuilds of a live session whose last rebuild saw ``frames``."""
    if rebuild_every <= 0:
        return 0.0  # no window: every batch rebuilds (the reference the window is tested against)
    return max(rebuild_every, frames / FRAMES_PER_WINDOW_SECOND)


def _ends(env: Envelope) -> bool:
    return env.direction is Direction.SYSTEM and env.type == "session.ended"


@dataclass(frozen=True, slots=True)
class Rebuilt:
    at: float  # monotonic time of this process's last rebuild of the session
    frames: int  # frames that rebuild saw


class TranscriptBuilder(HandlerDefaults):
    # A projection, not the evidence: longer batches (fewer statements per event) for at most
    # 0.5 s more delay behind the ledger.
    linger = 0.5
    name = "transcripts"

    def __init__(self, subject_prefix: str = "voice", rebuild_every: float = 1.0,
                 cache: FrameCache | None = None) -> None:
        # Audio subjects too: heard text and turn timing need audio lengths (not bytes).
        self.filter_subjects = [f"{subject_prefix}.>"]
        self.rebuild_every = rebuild_every
        self.cache = FrameCache() if cache is None else cache
        self._rebuilt: dict[Key, Rebuilt] = {}
        self._due: dict[Key, str] = {}  # sessions with frames stored since, -> provider

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        by_session: dict[Key, list[Envelope]] = defaultdict(list)
        for d in batch:
            by_session[(d.envelope.tenant_id, d.envelope.session_id)].append(d.envelope)
        for (tenant, session), envs in sorted(by_session.items()):
            await self._apply(conn, tenant, session, envs)

    async def _apply(self, conn: AsyncConnection, tenant: str, session: str,
                     envs: list[Envelope]) -> None:
        key = (tenant, session)
        provider = envs[0].provider.value
        locked = await repository.lock_session(conn, tenant, session, provider)
        # Out of the cache until this batch is done with it: a failure half-way leaves no entry.
        entry = self.cache.take(key, locked.frames_version)
        frames = [compact(e) for e in envs]
        version = uuid.uuid4()
        added = await repository.add_frames(conn, tenant, session, frames, version)
        if entry is not None and added:
            entry = _grown(entry, tenant, session, frames, added, version)
        if not added or all(f.kind == "audio" for f in frames):
            self._keep(key, entry)
            return
        last = self._rebuilt.get(key)
        if (not locked.ended and last is not None
                and time.monotonic() - last.at < rebuild_window(self.rebuild_every, last.frames)
                and not any(_ends(e) for e in envs)):
            self._due[key] = provider
            self._keep(key, entry)
            return
        n = await self._rebuild(conn, key, entry, version)
        # Before commit: if the batch rolls back, its redelivery stores the frames again and
        # marks the session due, so nothing is left behind.
        self._rebuilt[key] = Rebuilt(time.monotonic(), n)
        self._due.pop(key, None)

    async def _rebuild(self, conn: AsyncConnection, key: Key, entry: Entry | None,
                       version: UUID | None) -> int:
        """Rewrite the session's transcript from ``entry``, or from Postgres without one
        (``version``: the session's ``frames_version`` now); returns how many frames it saw."""
        tenant, session = key
        # Restoring and interpreting are CPU work: keep the event loop free for other consumers.
        if entry is None:
            stored = await repository.load_frames(conn, tenant, session)
            entry = Entry(version, await asyncio.to_thread(restored, tenant, session, stored))
        transcript = await asyncio.to_thread(transcribe_entry, entry)
        await repository.write_transcript(conn, tenant, session, len(entry.envs), transcript)
        if transcript.summary.ended_at is None:  # an ended session gets late events at most
            self._keep(key, entry)
        return len(entry.envs)

    def _keep(self, key: Key, entry: Entry | None) -> None:
        if entry is not None:
            self.cache.put(key, entry, time.monotonic())

    async def maintain(self, engine: AsyncEngine) -> None:
        """Rebuild the sessions whose window passed with frames not rebuilt yet."""
        now = time.monotonic()
        for key, provider in list(self._due.items()):
            last = self._rebuilt.get(key)
            if last is None or now - last.at >= rebuild_window(self.rebuild_every, last.frames):
                async with engine.begin() as conn:
                    locked = await repository.lock_session(conn, *key, provider)
                    entry = self.cache.take(key, locked.frames_version)
                    n = await self._rebuild(conn, key, entry, locked.frames_version)
                # After commit: a failure stays due.
                self._rebuilt[key] = Rebuilt(time.monotonic(), n)
                del self._due[key]
        # Forget quiet sessions: one not remembered is simply rebuilt on its next event.
        for key, rebuilt in list(self._rebuilt.items()):
            if key not in self._due and now - rebuilt.at > 60 * self.rebuild_every:
                del self._rebuilt[key]
        self.cache.evict_idle(now)


def _grown(entry: Entry, tenant: str, session: str, frames: list[StoredFrame], added: list[int],
           version: UUID) -> Entry | None:
    """``entry`` with the frames just stored, or None when which ones were stored is unclear."""
    by_seq = {f.seq: f for f in frames}
    if len(by_seq) < len(frames):  # a seq twice in the batch: either copy may be the stored one
        return None
    entry.add([restore(by_seq[seq], tenant, session) for seq in added], version)
    return entry


def make_transcripts(settings: object) -> TranscriptBuilder:
    prefix = getattr(settings, "subject_prefix", "voice")
    return TranscriptBuilder(prefix if isinstance(prefix, str) else "voice")
