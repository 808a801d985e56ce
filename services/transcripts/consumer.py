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
bounded by session size; a batch that brings only audio frames of a session stores them without a
rebuild (audio alone moves no text; the next event or ``session.ended`` rebuilds with it).

Transcript text never appears in logs or exceptions raised here; failures name the session only.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import Envelope
from services.platform.consumer import Delivered
from services.providers import interpret
from services.transcripts import repository
from services.transcripts.frames import StoredFrame, compact, restore
from services.transcripts.projection import Transcript, project


def rebuild(tenant: str, session: str, stored: list[StoredFrame]) -> Transcript:
    envs = [restore(f, tenant, session) for f in stored]
    return project(interpret(envs), envs)


class TranscriptBuilder:
    name = "transcripts"

    def __init__(self, subject_prefix: str = "voice") -> None:
        # Audio subjects too: heard text and turn timing need audio lengths (not bytes).
        self.filter_subjects = [f"{subject_prefix}.>"]

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        by_session: dict[tuple[str, str], list[Envelope]] = defaultdict(list)
        for d in batch:
            by_session[(d.envelope.tenant_id, d.envelope.session_id)].append(d.envelope)
        for (tenant, session), envs in sorted(by_session.items()):
            await self._apply(conn, tenant, session, envs)

    async def _apply(self, conn: AsyncConnection, tenant: str, session: str,
                     envs: list[Envelope]) -> None:
        await repository.lock_session(conn, tenant, session, envs[0].provider.value)
        frames = [compact(e) for e in envs]
        added = await repository.add_frames(conn, tenant, session, frames)
        if added == 0 or all(f.kind == "audio" for f in frames):
            return
        stored = await repository.load_frames(conn, tenant, session)
        # Interpretation is CPU work: keep the event loop free for the other consumers.
        transcript = await asyncio.to_thread(rebuild, tenant, session, stored)
        await repository.write_transcript(conn, tenant, session, len(stored), transcript)


def make_transcripts(settings: object) -> TranscriptBuilder:
    prefix = getattr(settings, "subject_prefix", "voice")
    return TranscriptBuilder(prefix if isinstance(prefix, str) else "voice")
