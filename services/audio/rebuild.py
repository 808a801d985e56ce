"""Rebuild a session's recordings from the ledger and compare with what the live consumer stored.

Same code as the live path (``job.SessionJob`` over ``source.py``), with uploads switched off: the
PCM hash depends only on the ledger, never on the salt or on how the consumer was batched or
restarted, so equality proves the stored recording is the projection of the committed evidence.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.audio import store
from services.audio.job import NoUploads, SessionJob
from services.audio.render import HEARD, UNHEARD
from services.audio.source import SegmentReader, entries_after, session_row
from services.platform.keys import KeyProvider


class RebuildError(Exception):
    """The session is unknown or its key was erased (names the session id only)."""


@dataclass(frozen=True)
class Rebuilt:
    kind: str
    pcm_sha256: str
    duration_ms: int
    recorded_pcm_sha256: str | None

    @property
    def matches(self) -> bool:
        return self.recorded_pcm_sha256 == self.pcm_sha256


async def rebuild(engine: AsyncEngine, keys: KeyProvider, s3: Any, bucket_ledger: str,
                  tenant: str, session: str, rate: int | None = None,
                  batch: int = 2000) -> dict[str, Rebuilt]:
    async with engine.connect() as conn:
        srow = await session_row(conn, tenant, session)
        recorded = await store.load(conn, tenant, session)
    if srow is None:
        raise RebuildError(f"no ledger session {session!r} in tenant {tenant!r}")
    if srow.wrapped_dek is None:
        raise RebuildError(f"session {session!r} was erased; its audio cannot be rebuilt")
    if rate is None:
        rate = recorded[HEARD].sample_rate if HEARD in recorded else 16000
    dek = await asyncio.to_thread(keys.unwrap_dek, tenant, srow.wrapped_dek, session)
    segments = SegmentReader(s3, bucket_ledger, tenant, session, dek)
    states: dict[str, tuple[str, str, bytes, list[dict[str, Any]]]] = {
        k: (store.object_key(tenant, session, k), "rebuild", os.urandom(16), [])
        for k in (HEARD, UNHEARD)}
    job = SessionJob(tenant, session, dek, rate, segments, NoUploads(), states)
    while True:
        async with engine.connect() as conn:
            rows = await entries_after(conn, tenant, session, job.last_seq, batch)
        fresh, last = [], job.last_seq
        for row in rows:
            if row.seq > last:  # duplicate seqs: the first sealed wins, as in the live path
                fresh.append(row)
                last = row.seq
        if not fresh:
            break
        await asyncio.to_thread(job.process, fresh)
    results = await asyncio.to_thread(job.finish)
    return {k: Rebuilt(k, v["pcm_sha256"], v["duration_ms"],
                       recorded[k].pcm_sha256 if k in recorded else None)
            for k, v in results.items()}
