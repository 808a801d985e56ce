"""Recordings and transcript of a session for its bundle (projections, read-only, blocking).

A recording is decrypted and written as FLAC only after its object SHA-256 and PCM SHA-256 equal
what the audio consumer recorded; a mismatch is a :class:`MediaError`, never a plausible file.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from services.audio.models import AudioRecording as R


class MediaError(Exception):
    """A recording does not match its recorded hashes (or is not complete)."""


def recordings(conn: Connection, tenant: str, session: str) -> dict[str, Any]:
    rows = conn.execute(select(*R.__table__.c).where(R.tenant_id == tenant,
                                                     R.session_id == session)).all()
    return {r.kind: r for r in rows}


def flac(rec: Any, dek: bytes, client: Any, bucket: str) -> bytes:
    import soundfile

    from services.audio.codec import is_flac, stored_pcm
    from services.audio.crypto import RecordingCryptoError, decrypt_stream
    from services.audio.job import context_for
    from services.audio.store import Uploads

    if rec.status != "complete":
        raise MediaError(f"the {rec.kind} recording is still being made")
    obj_sha, pcm_sha = hashlib.sha256(), hashlib.sha256()

    def counted() -> Any:
        for block in Uploads(client, bucket).read(rec.object_key):
            obj_sha.update(block)
            yield block

    spool = io.BytesIO()  # a FLAC-stored recording is decoded from here (codec.stored_pcm)
    pcm = bytearray()
    try:
        rate, channels, pieces = stored_pcm(
            decrypt_stream(dek, context_for(rec.tenant_id, rec.session_id, rec.kind), counted()),
            is_flac(rec.object_key), spool, int(rec.pcm_bytes or 0), int(rec.sample_rate),
            int(rec.channels))
        for piece in pieces:
            pcm += piece
    except (RecordingCryptoError, ValueError) as exc:
        raise MediaError(f"{rec.kind} recording: {exc}") from None
    body = bytes(pcm)
    pcm_sha.update(body)
    if obj_sha.hexdigest() != rec.sha256 or pcm_sha.hexdigest() != rec.pcm_sha256:
        raise MediaError(f"{rec.kind} recording does not match its recorded SHA-256")
    if is_flac(rec.object_key):
        return spool.getvalue()  # the stored FLAC, length filled in: as the API serves it
    out = io.BytesIO()
    with soundfile.SoundFile(out, "w", rate, channels, "PCM_16", format="FLAC") as sink:
        sink.write(np.frombuffer(body, "<i2").reshape(-1, channels))
    return out.getvalue()


def transcript(conn: Connection, tenant: str, session: str) -> tuple[bytes, bytes] | None:
    from services.transcripts.reads import transcript as read
    from services.transcripts.render import transcript_lines

    found = read(conn, tenant, session)
    if found is None:
        return None
    text = "\n".join(transcript_lines(found["turns"], found["tool_calls"])) + "\n"
    body = json.dumps(found, indent=2, ensure_ascii=False, default=str) + "\n"
    return body.encode(), text.encode()
