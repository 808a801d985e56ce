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
from Postgres with nothing kept in memory.

Cost: a rebuild reads the session's stored frames (tens of bytes per audio frame), so it is
bounded by session size, and rebuilding on every batch made a call quadratic in its length. So:

- a batch that brings only audio frames of a session stores them without a rebuild (audio alone
  moves no text; the next event or ``session.ended`` rebuilds with it);
- while a call is live, a session is rebuilt at most once per ``rebuild_every`` seconds: a batch
  inside that window stores its frames and marks the session due, and ``maintain`` (after each
  committed batch and on idle fetches) rebuilds due sessions once their window has passed;
- a batch is always rebuilt at once when it brings ``session.ended``, when the session had
  already ended (late events), or when this process has not rebuilt the session yet (so a
  restart, or a second instance, never waits on state it does not have).

The window trades freshness of a live call's transcript (at most ``rebuild_every`` seconds
behind) for work; the rows of an ended session are the same as rebuilding on every batch.

Transcript text never appears in logs or exceptions raised here; failures name the session only.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schemas.envelope import Direction, Envelope
from services.platform.consumer import Delivered
from services.providers import interpret
from services.transcripts import repository
from services.transcripts.frames import StoredFrame, compact, restore
from services.transcripts.projection import Transcript, project


def rebuild(tenant: str, session: str, stored: list[StoredFrame]) -> Transcript:
    envs = [restore(f, tenant, session) for f in stored]
    return project(interpret(envs), envs)


Key = tuple[str, str]


class TranscriptBuilder:
    name = "transcripts"

    def __init__(self, subject_prefix: str = "voice", rebuild_every: float = 1.0) -> None:
        # Audio subjects too: heard text and turn timing need audio lengths (not bytes).
        self.filter_subjects = [f"{subject_prefix}.>"]
        self.rebuild_every = rebuild_every
        self._rebuilt: dict[Key, float] = {}  # monotonic time of this process's last rebuild
        self._due: dict[Key, str] = {}  # sessions with frames stored since, -> provider

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        by_session: dict[tuple[str, str], list[Envelope]] = defaultdict(list)
        for d in batch:
            by_session[(d.envelope.tenant_id, d.envelope.session_id)].append(d.envelope)
        for (tenant, session), envs in sorted(by_session.items()):
            await self._apply(conn, tenant, session, envs)

    async def _apply(self, conn: AsyncConnection, tenant: str, session: str,
                     envs: list[Envelope]) -> None:
        provider = envs[0].provider.value
        ended = await repository.lock_session(conn, tenant, session, provider)
        frames = [compact(e) for e in envs]
        added = await repository.add_frames(conn, tenant, session, frames)
        if added == 0 or all(f.kind == "audio" for f in frames):
            return
        key = (tenant, session)
        last = self._rebuilt.get(key)
        if (not ended and last is not None and time.monotonic() - last < self.rebuild_every
                and not any(e.direction is Direction.SYSTEM and e.type == "session.ended"
                            for e in envs)):
            self._due[key] = provider
            return
        await self._rebuild(conn, tenant, session)
        # Before commit: if the batch rolls back, its redelivery stores the frames again and
        # marks the session due, so nothing is left behind.
        self._rebuilt[key] = time.monotonic()
        self._due.pop(key, None)

    async def _rebuild(self, conn: AsyncConnection, tenant: str, session: str) -> None:
        stored = await repository.load_frames(conn, tenant, session)
        # Interpretation is CPU work: keep the event loop free for the other consumers.
        transcript = await asyncio.to_thread(rebuild, tenant, session, stored)
        await repository.write_transcript(conn, tenant, session, len(stored), transcript)

    async def maintain(self, engine: AsyncEngine) -> None:
        """Rebuild the sessions whose window passed with frames not rebuilt yet."""
        now = time.monotonic()
        for key, provider in list(self._due.items()):
            if now - self._rebuilt.get(key, 0.0) >= self.rebuild_every:
                async with engine.begin() as conn:
                    await repository.lock_session(conn, *key, provider)
                    await self._rebuild(conn, *key)
                self._rebuilt[key] = time.monotonic()  # after commit: a failure stays due
                del self._due[key]
        # Forget quiet sessions: one not remembered is simply rebuilt on its next event.
        for key, at in list(self._rebuilt.items()):
            if key not in self._due and now - at > 60 * self.rebuild_every:
                del self._rebuilt[key]


def make_transcripts(settings: object) -> TranscriptBuilder:
    prefix = getattr(settings, "subject_prefix", "voice")
    return TranscriptBuilder(prefix if isinstance(prefix, str) else "voice")
