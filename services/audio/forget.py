"""The audio recorder's forgetter: recordings (heard and unheard) and their rows.

Objects under ``recordings/<tenant>/<session>/`` are deleted, every version; a multipart upload
still open for the session is aborted first so no part outlives it. The rows go last, so a crash
in between leaves the row that leads a retry back to the objects.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from services.platform.forget import BeyondUse, DataClass, ForgetContext, ForgetScope, StoreOutcome
from services.platform.s3_forget import delete_prefix


def recordings_prefix(tenant: str, session: str) -> str:
    return f"recordings/{tenant}/{session}/"  # services/audio/store.py object_key


def _abort(client: Any, bucket: str, key: str, upload_id: str) -> None:
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception:  # already completed or aborted: nothing left to abort
        return


class AudioForgetter:
    store = "audio"
    tables = ("audio_recordings",)
    buckets = ("bucket_audio",)
    classes = frozenset({DataClass.RECORDINGS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        out = StoreOutcome(self.store)
        bucket = ctx.settings.bucket_audio
        for session in scope.session_ids:
            params = {"t": scope.tenant_id, "s": session}
            async with ctx.engine.connect() as conn:
                open_uploads = (await conn.execute(text(
                    "SELECT object_key, upload_id FROM audio_recordings WHERE tenant_id = :t "
                    "AND session_id = :s AND upload_id IS NOT NULL AND status <> 'complete'"),
                    params)).all()
            for key, upload_id in open_uploads:
                await asyncio.to_thread(_abort, ctx.s3, bucket, key, upload_id)
            deletion = await asyncio.to_thread(delete_prefix, ctx.s3, bucket,
                                               recordings_prefix(scope.tenant_id, session))
            out.deleted += deletion.deleted
            out.detail["recording_objects"] = (out.detail.get("recording_objects", 0)
                                               + deletion.deleted)
            out.beyond_use.extend(BeyondUse(self.store, k, u) for k, u in deletion.locked)
            async with ctx.engine.begin() as conn:
                rows = (await conn.execute(text(
                    "DELETE FROM audio_recordings WHERE tenant_id = :t AND session_id = :s"),
                    params)).rowcount
            out.deleted += rows
            out.detail["audio_recordings"] = out.detail.get("audio_recordings", 0) + rows
        return out

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.RECORDINGS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)
