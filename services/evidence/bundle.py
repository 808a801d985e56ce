"""``voxledger evidence export``: one session's evidence bundle as a zip (DESIGN.md "Evidence").

Layout::

    manifest.json                 every file's SHA-256 and size, tool version, created_at, reason,
                                  erased status, the legal holds on it, and the manifest's own digest
    events.jsonl                  per entry: position, leaf inputs, payload ciphertext, envelope
    audio/heard.flac, unheard.flac  the recordings as heard / generated-but-unheard (projections)
    audio/segments/*.seg, index.json  raw encrypted audio as sealed, with the entry → bytes index
    transcript.json, transcript.txt
    proofs/                       checkpoint.note, inclusion.json, newest.note, consistency.json,
                                  cosigned/*.note (witness cosignatures)
    keys/                         log.vkey, witnesses.vkey, policy.txt, session_data_key.json
    custody.json                  the export as a ledger event: who, when, why, its position
    verify_bundle.py              the standalone verifier (Python + cryptography)
    certification.md              draft FRE 902(13)/(14) certification, from what it checked

An erased session (its data key destroyed) gets no plaintext: no envelope, recordings, transcript
or data key, and the manifest says ``"erased": true``. Holds: the active legal holds
on the session are listed in the manifest's ``hold``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from services.evidence import verify_bundle
from services.evidence.certification import certification
from services.evidence.collect import LedgerPart

EXPORT_EVENT = "evidence.exported"


def tool_version() -> str:
    try:
        return f"voxledger {metadata.version('voxledger')}"
    except metadata.PackageNotFoundError:
        return "voxledger (unpackaged)"


def verifier_source() -> bytes:
    return Path(str(verify_bundle.__file__)).read_bytes()


@dataclass(frozen=True)
class Custody:
    actor: str
    reason: str
    created_at: datetime
    position: int | None
    event_id: str | None
    note: str | None = None


def manifest(files: dict[str, bytes], header: dict[str, Any]) -> dict[str, Any]:
    body = dict(header) | {"files": {p: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
                                     for p, b in sorted(files.items())}}
    body["manifest_sha256"] = verify_bundle.manifest_digest(body)
    return body


def contents_digest(files: dict[str, bytes]) -> str:
    return verify_bundle.contents_digest(
        {p: {"sha256": hashlib.sha256(b).hexdigest()} for p, b in files.items()})


def assemble(part: LedgerPart, extra: dict[str, bytes], header: dict[str, Any],
             custody: Custody, policy_text: str) -> tuple[bytes, verify_bundle.Result]:
    """All files → zip bytes; the verifier runs on the finished set before certification.md."""
    files = dict(part.files) | dict(extra)
    files["keys/policy.txt"] = policy_text.encode()
    files["verify_bundle.py"] = verifier_source()
    files["custody.json"] = _custody_json(custody, header, files)
    first = manifest(files, header)
    files["manifest.json"] = _dumps(first)
    result = verify_bundle.verify(files)
    files["certification.md"] = certification(header, result).encode()
    del files["manifest.json"]
    files["manifest.json"] = _dumps(manifest(files, header))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=custody.created_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[path])
    return buf.getvalue(), result


def _custody_json(c: Custody, header: dict[str, Any], files: dict[str, bytes]) -> bytes:
    return _dumps({"event": EXPORT_EVENT, "tenant": header["tenant"], "session": header["session"],
                   "actor": c.actor, "reason": c.reason, "created_at": c.created_at.isoformat(),
                   "position": c.position, "event_id": c.event_id,
                   "contents_sha256": contents_digest(files),
                   **({"note": c.note} if c.note else {})})


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def header(tenant: str, session: str, reason: str, part: LedgerPart, now: datetime | None = None,
           holds: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``holds``: the active legal holds on the session (``services.retention.holds.holds_on``);
    the manifest's ``hold`` is ``None`` when there is none."""
    return {"format": verify_bundle.FORMAT, "tool_version": tool_version(),
            "created_at": (now or datetime.now(UTC)).isoformat(), "reason": reason,
            "tenant": tenant, "session": session, "erased": part.erased,
            "hold": {"holds": holds} if holds else None, "entries": len(part.positions),
            "checkpoint_size": part.anchor_size, "newest_checkpoint_size": part.newest_size}
