"""S3 object-lock legal holds on every object version of held sessions (blocking boto3 in threads).

Which objects: the raw audio objects in the ledger bucket holding a part of the session (one
object per sealed batch, shared by the sessions of that batch: ``services/ledger/segments.py``;
segments sealed before that layout are under ``raw/<t>/<s>/``) and its recordings in the audio
bucket (``recordings/<t>/<s>/``) when that bucket has object lock (it is created with it since
issue 15; an older stack's audio bucket cannot get it afterwards, and :func:`lockable_buckets`
reports that). Every version is locked, not only the latest: a delete
of any version must fail while the hold stands. What was switched ON is recorded in
``legal_hold_objects`` so a release switches exactly those OFF, and only when no other active
hold still covers the session. A shared batch object stays locked while any session with a part
in it is held: a release hands the object's record over to such a session instead of unlocking
it. (Locking a shared object keeps the other sessions' parts from deletion too; their erasure
still shreds them by destroying their keys, and the refused deletion is reported.)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.ledger import reads as ledger_reads
from services.ledger.segments import BATCH_DIR
from services.platform.forget import ForgetContext
from services.retention.models import LegalHoldObject

MAX_VERSIONS_PER_SESSION = 100_000  # bound: a session has a few hundred objects at most


@dataclass
class LockReport:
    locked: int = 0
    unlocked: int = 0
    warnings: list[str] = field(default_factory=list)


def prefixes(tenant: str, session: str) -> dict[str, str]:
    """Settings field of the bucket → key prefix of one session's objects there."""
    return {"bucket_ledger": f"raw/{tenant}/{session}/",
            "bucket_audio": f"recordings/{tenant}/{session}/"}


def has_object_lock(client: Any, bucket: str) -> bool:
    try:
        conf = client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError:
        return False
    return bool(conf.get("ObjectLockEnabled") == "Enabled")


def lockable_buckets(ctx: ForgetContext) -> tuple[dict[str, str], list[str]]:
    """({settings field: bucket} that can carry legal holds, warnings for those that cannot)."""
    out: dict[str, str] = {}
    warnings = []
    for name in prefixes("t", "s"):
        bucket = str(getattr(ctx.settings, name))
        if has_object_lock(ctx.s3, bucket):
            out[name] = bucket
        else:
            warnings.append(
                f"bucket {bucket} ({name}) has no object lock: held objects there cannot carry "
                "an S3 legal hold (object lock is only set at bucket creation; set "
                f"VOXLEDGER_{name.upper()} to a new bucket name and run `voxledger up`)")
    return out, warnings


def _versions(client: Any, bucket: str, prefix: str, exact: bool = False
              ) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for page in client.get_paginator("list_object_versions").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000}):
        for v in page.get("Versions", []):
            if not exact or v["Key"] == prefix:
                found.append((str(v["Key"]), str(v.get("VersionId") or "null")))
        if len(found) > MAX_VERSIONS_PER_SESSION:
            raise RuntimeError(f"more than {MAX_VERSIONS_PER_SESSION} object versions under "
                               "one session prefix")
    return found


def _set(client: Any, bucket: str, key: str, version: str, status: str) -> None:
    client.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=version,
                                 LegalHold={"Status": status})


async def lock_sessions(ctx: ForgetContext, tenant: str, sessions: list[str]) -> LockReport:
    """Switch legal hold ON for every version not yet locked (idempotent; new objects too)."""
    report = LockReport()
    buckets, report.warnings = await asyncio.to_thread(lockable_buckets, ctx)
    for session in sessions:
        async with ctx.engine.connect() as conn:
            done = {(r.bucket, r.key, r.version_id) for r in (await conn.execute(
                select(LegalHoldObject).where(LegalHoldObject.tenant_id == tenant,
                                              LegalHoldObject.session_id == session))).all()}
            batch_objects = await ledger_reads.segment_objects(conn, tenant, session)
        for name, bucket in buckets.items():
            prefix = prefixes(tenant, session)[name]
            versions = await asyncio.to_thread(_versions, ctx.s3, bucket, prefix)
            if name == "bucket_ledger":
                for key in batch_objects:
                    versions += await asyncio.to_thread(_versions, ctx.s3, bucket, key, True)
            for key, version in versions:
                if (bucket, key, version) in done:
                    continue
                await asyncio.to_thread(_set, ctx.s3, bucket, key, version, "ON")
                # Recorded after the lock is set: a crash in between leaves a lock without a
                # row, which the next sync records (ON is idempotent) rather than forgets.
                async with ctx.engine.begin() as conn:
                    await conn.execute(pg_insert(LegalHoldObject).values(
                        tenant_id=tenant, bucket=bucket, key=key, version_id=version,
                        session_id=session, locked_at=ctx.clock.now()).on_conflict_do_nothing())
                report.locked += 1
    return report


async def unlock_sessions(ctx: ForgetContext, tenant: str, sessions: list[str],
                          held: set[str] | None = None) -> LockReport:
    """Switch OFF what a hold switched ON for these sessions (the caller checked no hold remains).
    ``held``: the sessions still held; a shared batch object with a part of one stays ON."""
    report = LockReport()
    for session in sessions:
        async with ctx.engine.connect() as conn:
            rows = (await conn.execute(select(LegalHoldObject).where(
                LegalHoldObject.tenant_id == tenant,
                LegalHoldObject.session_id == session))).all()
        for r in rows:
            heir = await _still_held(ctx, tenant, r.key, held or set())
            if heir is not None:
                async with ctx.engine.begin() as conn:
                    await conn.execute(update(LegalHoldObject).where(
                        LegalHoldObject.tenant_id == tenant, LegalHoldObject.bucket == r.bucket,
                        LegalHoldObject.key == r.key, LegalHoldObject.version_id == r.version_id
                    ).values(session_id=heir))
                continue
            try:
                await asyncio.to_thread(_set, ctx.s3, r.bucket, r.key, r.version_id, "OFF")
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in ("NoSuchKey", "NoSuchVersion", "404"):
                    raise
            async with ctx.engine.begin() as conn:
                await conn.execute(delete(LegalHoldObject).where(
                    LegalHoldObject.tenant_id == tenant, LegalHoldObject.bucket == r.bucket,
                    LegalHoldObject.key == r.key, LegalHoldObject.version_id == r.version_id))
            report.unlocked += 1
    return report


async def _still_held(ctx: ForgetContext, tenant: str, key: str, held: set[str]) -> str | None:
    """A held session with a part in this (batch) object, if any."""
    if not held or "#" in key or f"/{BATCH_DIR}/" not in key:
        return None
    async with ctx.engine.connect() as conn:
        others = await ledger_reads.object_sessions(conn, tenant, key) & held
    return min(others) if others else None


async def locked_sessions(ctx: ForgetContext, tenant: str) -> set[str]:
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(select(LegalHoldObject.session_id).where(
            LegalHoldObject.tenant_id == tenant).distinct())
        return {str(r[0]) for r in rows}
