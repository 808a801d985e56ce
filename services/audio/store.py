"""Adapters of the audio projection: S3 multipart uploads (blocking: call from threads) and SQL.

Object keys are ``recordings/<tenant>/<session>/<kind>.flac.vxa``: ids only (law 7). Recordings
made before issue 13 are ``<kind>.wav.vxa`` (streamed WAV); readers tell them apart by the key.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audio.codec import FLAC_SUFFIX
from services.audio.models import AudioRecording
from services.audio.recording import Part

R = AudioRecording


def object_key(tenant: str, session: str, kind: str) -> str:
    return f"recordings/{tenant}/{session}/{kind}{FLAC_SUFFIX}"


class UploadGone(Exception):
    """The multipart upload a recording row names no longer exists (completed or aborted while
    the row was not updated, e.g. a crash between the two): the recording starts over."""


def _gone(exc: Exception) -> bool:
    response = getattr(exc, "response", None)  # botocore's ClientError
    return isinstance(response, dict) and response.get("Error", {}).get("Code") == "NoSuchUpload"


class Uploads:
    """Multipart upload calls on the audio bucket (boto3 is blocking). Errors: UploadGone."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    def start(self, key: str) -> str:
        return str(self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType="application/octet-stream")["UploadId"])

    def put(self, key: str, upload_id: str, part: Part) -> dict[str, Any]:
        try:
            res = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                          PartNumber=part.number, Body=part.body)
        except Exception as exc:
            if _gone(exc):
                raise UploadGone(f"upload of part {part.number}: no such upload") from None
            raise
        return {"n": part.number, "etag": res["ETag"], "md5": part.md5}

    def complete(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": p["n"], "ETag": p["etag"]}
                                           for p in parts]})
        except Exception as exc:
            if _gone(exc):
                raise UploadGone("completion: no such upload") from None
            raise

    def abort(self, key: str, upload_id: str) -> None:
        self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def read(self, key: str, block: int = 1 << 20) -> Any:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return iter(lambda: body.read(block), b"")


async def load(conn: AsyncConnection, tenant: str, session: str) -> dict[str, Any]:
    rows = (await conn.execute(select(*R.__table__.c).where(
        R.tenant_id == tenant, R.session_id == session))).all()
    return {r.kind: r for r in rows}


async def create(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(pg_insert(R).values(**values).on_conflict_do_update(
        index_elements=["tenant_id", "session_id", "kind"],
        set_={k: v for k, v in values.items() if k not in ("tenant_id", "session_id", "kind")}
        | {"updated_at": datetime.now(UTC)}))


async def save_parts(conn: AsyncConnection, tenant: str, session: str, kind: str,
                     parts: list[dict[str, Any]], last_seq: int) -> None:
    await conn.execute(update(R).where(R.tenant_id == tenant, R.session_id == session,
                                       R.kind == kind)
                       .values(parts=parts, last_seq=last_seq, updated_at=datetime.now(UTC)))


_PROGRESS = text("""
    UPDATE audio_recordings r SET last_seq = v.last_seq, updated_at = now()
      FROM unnest(CAST(:tenants AS text[]), CAST(:sessions AS text[]),
                  CAST(:seqs AS bigint[])) AS v(tenant_id, session_id, last_seq)
     WHERE r.tenant_id = v.tenant_id AND r.session_id = v.session_id
       AND r.status = 'recording' AND r.last_seq < v.last_seq
""")


async def save_progress(conn: AsyncConnection, fed: dict[tuple[str, str], int]) -> None:
    """Each recording's ``last_seq`` (every kind of the session): how far it has been fed, in
    one statement for every session a poll stepped (progress only: a resumed recording replays
    the session from the ledger whatever it says)."""
    if not fed:
        return
    keys = sorted(fed)
    await conn.execute(_PROGRESS, {"tenants": [k[0] for k in keys],
                                   "sessions": [k[1] for k in keys],
                                   "seqs": [fed[k] for k in keys]})


async def complete(conn: AsyncConnection, tenant: str, session: str, kind: str,
                   values: dict[str, Any]) -> None:
    await conn.execute(update(R).where(R.tenant_id == tenant, R.session_id == session,
                                       R.kind == kind)
                       .values(status="complete", upload_id=None, completed_at=datetime.now(UTC),
                               updated_at=datetime.now(UTC), **values))


async def open_sessions(conn: AsyncConnection, tenant: str | None) -> list[Any]:
    """Ledger sessions whose recording is not complete (new, in progress, or never started).
    Reserved sessions (the tenant's journal of control events) carry no audio: never listed."""
    from services.ledger.journal_ids import RESERVED_PREFIX
    from services.ledger.models import LedgerSession as S

    stmt = (select(S.tenant_id, S.session_id, S.max_seq, S.ended, S.timed_out_at)
            .outerjoin(R, (R.tenant_id == S.tenant_id) & (R.session_id == S.session_id)
                       & (R.kind == "heard"))
            .where(S.wrapped_dek.is_not(None), (R.status.is_(None)) | (R.status == "recording"),
                   ~S.session_id.startswith(RESERVED_PREFIX, autoescape=True))
            .order_by(S.tenant_id, S.session_id))
    if tenant is not None:
        stmt = stmt.where(S.tenant_id == tenant)
    return list((await conn.execute(stmt)).all())
