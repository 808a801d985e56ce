"""The forgetters retention tests dispose through: the composed registry of issue 14
(``services.erasure.registry.forgetters()``) once it is merged, else a temporary fallback.

The fallback is test-only and minimal but real (it deletes from the real stores): raw events
(shred the session key, delete every version of the raw segments), recordings (every object
version and the index rows), transcripts (the rows). It exists so this branch's acceptance tests
run before issue 14 lands; when ``services.erasure.registry`` exists it is never used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from services.ledger import reads
from services.platform.forget import (
    DataClass,
    ForgetContext,
    ForgetScope,
    Forgetter,
    StoreOutcome,
)


def _delete_versions(client: Any, bucket: str, prefix: str) -> int:
    n = 0
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket,
                                                                       Prefix=prefix):
        for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            client.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
            n += 1
    return n


class _Base:
    store = "test"
    tables: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    classes: frozenset[DataClass] = frozenset()

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        out = StoreOutcome(self.store)
        for c in self.classes:
            out.add(await self.dispose(ctx, scope, c))
        return out

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        raise NotImplementedError


class RawEvents(_Base):
    store = "ledger-fallback"
    tables = ("ledger_sessions", "ledger_audio_segments")
    buckets = ("bucket_ledger",)
    classes = frozenset({DataClass.RAW_EVENTS})

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        out = StoreOutcome(self.store)
        if data_class not in self.classes:
            return out
        async with ctx.engine.begin() as conn:
            res = await conn.execute(text(
                "UPDATE ledger_sessions SET wrapped_dek = NULL WHERE tenant_id = :t "
                "AND session_id = ANY(CAST(:s AS text[])) AND wrapped_dek IS NOT NULL"),
                {"t": scope.tenant_id, "s": list(scope.session_ids)})
            out.shredded += int(res.rowcount)
            # Shared batch objects go once no session with a live key has a part in them.
            shared = sorted({k for sid in scope.session_ids
                             for k in await reads.segment_objects(conn, scope.tenant_id, sid)})
            dead = await reads.objects_without_live_parts(conn, scope.tenant_id, shared)
        for prefix in [*(f"raw/{scope.tenant_id}/{sid}/" for sid in scope.session_ids), *dead]:
            out.deleted += await asyncio.to_thread(
                _delete_versions, ctx.s3, ctx.settings.bucket_ledger, prefix)
        return out


class Recordings(_Base):
    store = "audio-fallback"
    tables = ("audio_recordings",)
    buckets = ("bucket_audio",)
    classes = frozenset({DataClass.RECORDINGS})

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        out = StoreOutcome(self.store)
        if data_class not in self.classes:
            return out
        for sid in scope.session_ids:
            out.deleted += await asyncio.to_thread(
                _delete_versions, ctx.s3, ctx.settings.bucket_audio,
                f"recordings/{scope.tenant_id}/{sid}/")
        async with ctx.engine.begin() as conn:
            await conn.execute(text(
                "DELETE FROM audio_recordings WHERE tenant_id = :t "
                "AND session_id = ANY(CAST(:s AS text[]))"),
                {"t": scope.tenant_id, "s": list(scope.session_ids)})
        return out


class Transcripts(_Base):
    store = "transcripts-fallback"
    tables = ("transcript_turns", "tool_calls", "transcript_sessions")
    classes = frozenset({DataClass.TRANSCRIPTS})

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        out = StoreOutcome(self.store)
        if data_class not in self.classes:
            return out
        async with ctx.engine.begin() as conn:
            for table in self.tables:
                res = await conn.execute(text(
                    f"DELETE FROM {table} WHERE tenant_id = :t "
                    "AND session_id = ANY(CAST(:s AS text[]))"),
                    {"t": scope.tenant_id, "s": list(scope.session_ids)})
                out.deleted += int(res.rowcount)
        return out


def registry() -> Sequence[Forgetter]:
    try:
        from services.retention.context import forgetters

        return forgetters()
    except RuntimeError:  # NoRegistry: issue 14 not merged yet
        return (RawEvents(), Recordings(), Transcripts())


def using_fallback() -> bool:
    return isinstance(registry()[0], _Base)
