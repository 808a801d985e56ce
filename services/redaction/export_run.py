"""Training export, the I/O: read candidates and redacted turns, write JSONL + manifest to S3,
record lineage.

Order matters for erasure: lineage (export → sessions) is committed before the first upload, so
an export that dies half-way is still found and purged; the manifest goes last and its hash is
recorded when every file is in place. Keys are deterministic (tenant and export ids only), so a
re-run overwrites the same objects. boto3 is blocking: uploads run in a thread.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.redaction import export_repository as repo
from services.redaction.export import (
    SESSIONS_PER_FILE,
    Candidate,
    ExportFile,
    ExportFormat,
    export_id,
    manifest,
    object_prefix,
    select_sessions,
    session_line,
)
from services.redaction.repository import current_policy

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ExportResult:
    export_id: str
    bucket: str
    manifest_key: str
    manifest_sha256: str
    manifest: dict[str, Any]


async def export_training(db: AsyncEngine, s3: Any, bucket: str, tenant: str, *,
                          fmt: ExportFormat = ExportFormat.OPENAI_CHAT,
                          since: datetime | None = None,
                          progress: Progress = lambda _m: None) -> ExportResult:
    async with db.connect() as conn:
        policy = await current_policy(conn, tenant)
        found = await repo.candidates(conn, tenant)
        chosen = select_sessions(found, policy.policy_hash, since)
        progress(f"{len(found)} ended sessions, {len(chosen.sessions)} with training consent "
                 f"and a current redaction")
        ids = [c.session_id for c in chosen.sessions]
        turns = await repo.redacted_turns(conn, tenant, ids, policy.policy_hash)
        calls = await repo.redacted_tool_calls(conn, tenant, ids, policy.policy_hash)
    lines: list[tuple[Candidate, str]] = []
    detectors: set[str] = set()
    models: set[str] = set()
    messages = 0
    for c in chosen.sessions:
        rows = turns[c.session_id]
        built = session_line(fmt, c, [t for t, _, _ in rows], calls[c.session_id])
        if built is None:
            continue
        lines.append((c, built[0]))
        messages += built[1]
        detectors.update(d for _, d, _ in rows)
        models.update(m for _, _, m in rows)
    exported = [c.session_id for c, _ in lines]
    eid = export_id(tenant, fmt, since, policy.policy_hash, exported)
    prefix = object_prefix(tenant, eid)
    files = [ExportFile(f"{prefix}part-{n:05d}.jsonl",
                        "".join(line + "\n" for _, line in chunk).encode(),
                        [c.session_id for c, _ in chunk])
             for n, chunk in enumerate(_chunks(lines, SESSIONS_PER_FILE))]
    body = manifest(export=eid, tenant=tenant, fmt=fmt, since=since,
                    policy_version=policy.version, policy_hash=policy.policy_hash, files=files,
                    sessions=[c for c, _ in lines], messages=messages,
                    detector_versions=detectors, models=models, excluded=chosen.excluded)
    manifest_bytes = json.dumps(body, indent=2, sort_keys=True).encode() + b"\n"
    manifest_key = prefix + "manifest.json"
    async with db.begin() as conn:
        await repo.record_lineage(conn, export=eid, tenant=tenant, fmt=fmt, since=since,
                                  policy_hash=policy.policy_hash, bucket=bucket,
                                  manifest_key=manifest_key, sessions=exported)
    for n, f in enumerate(files, start=1):
        await asyncio.to_thread(_put, s3, bucket, f.key, f.body, "application/x-ndjson")
        progress(f"file {n}/{len(files)}: {len(f.sessions)} sessions, {len(f.body)} bytes")
    await asyncio.to_thread(_put, s3, bucket, manifest_key, manifest_bytes, "application/json")
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    async with db.begin() as conn:
        await repo.complete(conn, eid, digest)
    progress(f"export {eid}: {len(exported)} sessions, {messages} messages")
    return ExportResult(eid, bucket, manifest_key, digest, body)


def _chunks(items: list[tuple[Candidate, str]],
            size: int) -> list[list[tuple[Candidate, str]]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _put(s3: Any, bucket: str, key: str, body: bytes, content_type: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                  ChecksumSHA256=_b64_sha256(body))


def _b64_sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()
