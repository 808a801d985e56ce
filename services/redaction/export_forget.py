"""Erasure in past training exports: rewrite each export file holding a session without it.

Lines in an export carry no session id (the chat format has none), so which line is whose comes
from the lineage: files hold the exported sessions in session-id order, ``manifest.files[i]
.sessions`` lines each (services/redaction/export_run.py). The rewrite is crash-safe:

1. new files and a new manifest (``manifest_version`` + 1, a ``revisions`` entry without PII) go
   to new keys (``part-NNNNN.vM.jsonl``, ``manifest.vM.json``); a crash here leaves orphans that
   the retry overwrites (same keys) and step 3 removes;
2. one transaction points ``training_exports.manifest_key`` at the new manifest and deletes the
   session's lineage rows, so lineage and the committed manifest always agree;
3. every object under the export's prefix the committed manifest does not name is deleted, every
   version; ``manifest.json`` is rewritten to the latest manifest for readers that use it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from sqlalchemy import text

from services.platform.forget import ForgetContext, ForgetError, ForgetScope, StoreOutcome
from services.platform.s3_forget import delete_versions, list_versions
from services.redaction.export_run import _put


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _messages(fmt: str, line: str) -> int:
    obj = json.loads(line)
    if fmt == "openai-chat":
        return len(obj.get("messages", []))
    return sum(1 for t in obj.get("turns", []) if t.get("text"))


def _versioned(key: str, version: int) -> str:
    base, _, name = key.rpartition("/")
    return f"{base}/{name.split('.')[0]}.v{version}.jsonl"


def _rewrite(s3: Any, bucket: str, prefix: str, manifest: dict[str, Any], lineage: list[str],
             erase: set[str], reason: str) -> tuple[dict[str, Any], bytes, str, int]:
    """Write the new files and manifest (step 1). Returns (manifest, bytes, key, lines removed)."""
    version = int(manifest.get("manifest_version", 1)) + 1
    fmt = str(manifest.get("format"))
    files, removed, messages, i = [], 0, 0, 0
    for f in manifest.get("files", []):
        n = int(f["sessions"])
        ids, i = lineage[i:i + n], i + n
        lines = _get(s3, bucket, f["key"]).decode().splitlines()
        if len(lines) != n or len(ids) != n:
            raise ForgetError("an export file does not match its lineage; not rewritten")
        kept = [line for sid, line in zip(ids, lines, strict=True) if sid not in erase]
        removed += n - len(kept)
        messages += sum(_messages(fmt, line) for line in kept)
        if not kept:
            continue
        if len(kept) == n:
            files.append(f)
            continue
        body = "".join(line + "\n" for line in kept).encode()
        key = _versioned(f["key"], version)
        _put(s3, bucket, key, body, "application/x-ndjson")
        files.append({"key": key, "sha256": hashlib.sha256(body).hexdigest(),
                      "bytes": len(body), "sessions": len(kept)})
    counts = dict(manifest.get("counts", {}))
    counts.update(sessions=sum(int(f["sessions"]) for f in files), messages=messages,
                  files=len(files))
    new = {**manifest, "manifest_version": version, "files": files, "counts": counts,
           "revisions": [*manifest.get("revisions", []),
                         {"manifest_version": version, "removed_sessions": removed,
                          "reason": reason}]}
    body = json.dumps(new, indent=2, sort_keys=True).encode() + b"\n"
    key = f"{prefix}manifest.v{version}.json"
    _put(s3, bucket, key, body, "application/json")
    return new, body, key, removed


def _cleanup(s3: Any, bucket: str, prefix: str, manifest: dict[str, Any], manifest_key: str,
             body: bytes) -> int:
    """Step 3: delete what the committed manifest does not name; refresh manifest.json."""
    keep = {f["key"] for f in manifest.get("files", [])} | {manifest_key}
    stale = [(k, v) for k, v in list_versions(s3, bucket, prefix)
             if k not in keep and k != f"{prefix}manifest.json"]
    deleted = delete_versions(s3, bucket, stale).deleted
    latest = f"{prefix}manifest.json"
    _put(s3, bucket, latest, body, "application/json")
    older = [(k, v) for k, v in list_versions(s3, bucket, latest) if k == latest]
    if len(older) > 1:  # a versioned bucket: keep only the version just written
        newest = s3.head_object(Bucket=bucket, Key=latest).get("VersionId")
        deleted += delete_versions(s3, bucket, [(k, v) for k, v in older
                                                if v and v != newest]).deleted
    return deleted


async def purge_exports(ctx: ForgetContext, scope: ForgetScope, store: str) -> StoreOutcome:
    out = StoreOutcome(store)
    erase = set(scope.session_ids)
    async with ctx.engine.connect() as conn:
        exports = (await conn.execute(text(
            "SELECT DISTINCT e.export_id, e.bucket, e.manifest_key, e.manifest_sha256 "
            "FROM training_exports e JOIN training_export_sessions l USING (export_id) "
            "WHERE l.tenant_id = :t AND l.session_id = ANY(:s) ORDER BY e.export_id"),
            {"t": scope.tenant_id, "s": list(erase)})).all()
    for export_id, bucket, manifest_key, manifest_sha in exports:
        prefix = manifest_key.rpartition("/")[0] + "/"
        async with ctx.engine.connect() as conn:
            lineage = sorted(r[0] for r in await conn.execute(text(
                "SELECT session_id FROM training_export_sessions WHERE export_id = :e"),
                {"e": export_id}))
        if manifest_sha is None:
            # The writer died before its manifest: nothing reliable to rewrite; drop it whole.
            new_key, new_body, removed = None, b"", len(lineage)
            manifest: dict[str, Any] = {"files": []}
        else:
            old = json.loads(await asyncio.to_thread(_get, ctx.s3, bucket, manifest_key))
            manifest, new_body, new_key, removed = await asyncio.to_thread(
                _rewrite, ctx.s3, bucket, prefix, old, lineage, erase, scope.reason)
        async with ctx.engine.begin() as conn:
            gone = (await conn.execute(text(
                "DELETE FROM training_export_sessions WHERE export_id = :e AND "
                "session_id = ANY(:s)"), {"e": export_id, "s": list(erase)})).rowcount
            if new_key is None:
                await conn.execute(text("DELETE FROM training_exports WHERE export_id = :e"),
                                   {"e": export_id})
            else:
                await conn.execute(text(
                    "UPDATE training_exports SET manifest_key = :k, manifest_sha256 = :h, "
                    "sessions = :n, updated_at = now() WHERE export_id = :e"),
                    {"k": new_key, "h": hashlib.sha256(new_body).hexdigest(),
                     "n": manifest["counts"]["sessions"], "e": export_id})
        out.deleted += gone
        out.detail["lineage_rows"] = out.detail.get("lineage_rows", 0) + gone
        out.detail["export_lines"] = out.detail.get("export_lines", 0) + removed
        if new_key is None:
            from services.platform.s3_forget import delete_prefix

            objs = (await asyncio.to_thread(delete_prefix, ctx.s3, bucket, prefix)).deleted
        else:
            objs = await asyncio.to_thread(_cleanup, ctx.s3, bucket, prefix, manifest, new_key,
                                           new_body)
        out.deleted += objs
        out.detail["export_objects"] = out.detail.get("export_objects", 0) + objs
        out.detail["exports_rewritten"] = out.detail.get("exports_rewritten", 0) + 1
    out.deleted += await _finish_interrupted(ctx, scope.tenant_id)
    return out


async def _finish_interrupted(ctx: ForgetContext, tenant: str) -> int:
    """Step 3 of rewrites a crash cut short (their lineage is already gone, so the loop above no
    longer finds them): remove objects their committed manifest does not name."""
    async with ctx.engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT bucket, manifest_key FROM training_exports WHERE tenant_id = :t AND "
            "manifest_key LIKE '%/manifest.v%'"), {"t": tenant})).all()
    deleted = 0
    for bucket, key in rows:
        prefix = key.rpartition("/")[0] + "/"
        body = await asyncio.to_thread(_get, ctx.s3, bucket, key)
        deleted += await asyncio.to_thread(_cleanup, ctx.s3, bucket, prefix, json.loads(body),
                                           key, body)
    return deleted
