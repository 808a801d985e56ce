"""Opening a session's recording job, and abandoning its uploads (adapter orchestration).

A job resumes the session's uploads when both are in progress at the configured rate (the
parts stored so far are then checked on replay, ``job.py``); otherwise both are started over:
new multipart uploads, new salts, the restart counted. An upload started for a session whose
rows were not written (a crash in between) is garbage in the bucket, never a loss.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.audio import store
from services.audio.job import SessionJob
from services.audio.render import HEARD, LAYOUT, UNHEARD
from services.audio.source import BatchObjects, SegmentReader, session_row
from services.platform.keys import KeyProvider
from services.platform.settings import Settings

log = logging.getLogger(__name__)


async def open_job(engine: AsyncEngine, settings: Settings, keys: KeyProvider, s3: Any,
                   uploads: store.Uploads, objects: BatchObjects, tenant: str, session: str,
                   part_size: int) -> SessionJob | None:
    """The session's job, its upload rows written; None when the session has no key (erased)."""
    async with engine.connect() as conn:
        srow = await session_row(conn, tenant, session)
        existing = await store.load(conn, tenant, session)
    if srow is None or srow.wrapped_dek is None:
        return None
    rate = settings.audio_sample_rate
    states: dict[str, tuple[str, str, bytes, list[dict[str, Any]]]] = {}
    resumable = all(k in existing and existing[k].status == "recording"
                    and existing[k].upload_id and existing[k].sample_rate == rate
                    for k in (HEARD, UNHEARD))
    for kind in (HEARD, UNHEARD):
        row = existing.get(kind)
        if resumable and row is not None and row.upload_id:
            states[kind] = (row.object_key, row.upload_id, row.salt, list(row.parts))
    fresh = [kind for kind in (HEARD, UNHEARD) if kind not in states]
    object_keys = {kind: store.object_key(tenant, session, kind) for kind in fresh}
    # The key unwrap and the multipart starts are round trips of their own: at once.
    dek, upload_ids = await asyncio.gather(
        asyncio.to_thread(keys.unwrap_dek, tenant, srow.wrapped_dek, session),
        asyncio.gather(*(asyncio.to_thread(uploads.start, object_keys[k]) for k in fresh)))
    if fresh:
        async with engine.begin() as conn:
            for kind, upload_id in zip(fresh, upload_ids, strict=True):
                salt = os.urandom(16)
                states[kind] = (object_keys[kind], upload_id, salt, [])
                await store.create(conn, {
                    "tenant_id": tenant, "session_id": session, "kind": kind,
                    "status": "recording", "object_key": object_keys[kind],
                    "upload_id": upload_id, "salt": salt, "parts": [], "sample_rate": rate,
                    "channels": len(LAYOUT[kind]), "last_seq": -1,
                    "restarts": (existing[kind].restarts + 1) if kind in existing else 0})
    segments = SegmentReader(s3, settings.bucket_ledger, tenant, session, dek, objects=objects)
    return SessionJob(tenant, session, dek, rate, segments, uploads,
                      {kind: states[kind] for kind in (HEARD, UNHEARD)}, part_size=part_size)


async def abandon(engine: AsyncEngine, uploads: store.Uploads, job: SessionJob | None,
                  tenant: str, session: str) -> None:
    """Abort the job's uploads and clear the rows' upload state: the next job starts over."""
    if job is not None:
        for st in job.kinds.values():
            try:
                await asyncio.to_thread(uploads.abort, st.key, st.upload_id)
            except Exception as exc:  # an orphaned upload is garbage, not a loss
                log.warning("audio: abort failed (%s)", type(exc).__name__)
    async with engine.begin() as conn:
        for kind in (HEARD, UNHEARD):
            await store.save_parts(conn, tenant, session, kind, [], -1)
            await conn.execute(update(store.R).where(
                store.R.tenant_id == tenant, store.R.session_id == session,
                store.R.kind == kind).values(upload_id=None))
