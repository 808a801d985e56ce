"""``voxledger audio export | rebuild`` and the ``audio`` section of ``sessions show``.

Export streams the object: download → decrypt chunk by chunk → PCM (a FLAC-stored recording is
spooled to an unnamed temporary file and decoded) → WAV or FLAC in a temporary file next to the
output; the file is moved into place only when the object's SHA-256 and the PCM's
SHA-256 both equal what the consumer recorded, so a tampered or truncated recording never yields
a plausible-looking file. Exit codes: 0 ok, 1 verification failed, 2 not found / not complete.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from sqlalchemy import select

from services.audio.models import AudioRecording as R

audio_app = typer.Typer(help="Recordings as heard: export and rebuild.", no_args_is_help=True)


def audio_section(conn: Any, tenant: str, session: str) -> dict[str, Any] | None:
    rows = conn.execute(select(*R.__table__.c).where(R.tenant_id == tenant,
                                                     R.session_id == session)).all()
    by_kind = {r.kind: r for r in rows}
    heard = by_kind.get("heard")
    if heard is None:
        return None
    out = _describe(heard)
    if "unheard" in by_kind:
        out["unheard"] = _describe(by_kind["unheard"])
    return out


def _describe(r: Any) -> dict[str, Any]:
    return {"status": r.status, "object_key": r.object_key, "duration_ms": r.duration_ms,
            "sample_rate": r.sample_rate, "channels": r.channels, "sha256": r.sha256,
            "pcm_sha256": r.pcm_sha256, "gaps": r.gaps or [], "parts": len(r.parts or [])}


def _find(conn: Any, session: str, tenant: str | None, kind: str) -> Any:
    stmt = select(*R.__table__.c).where(R.session_id == session, R.kind == kind)
    if tenant is not None:
        stmt = stmt.where(R.tenant_id == tenant)
    rows = conn.execute(stmt).all()
    if not rows and _erased(conn, session, tenant):
        typer.echo(f"error: session {session!r} was erased (right to erasure); its recordings "
                   "were deleted and its key destroyed, so there is no audio to export",
                   err=True)
        raise typer.Exit(2)
    if not rows:
        typer.echo(f"error: no {kind} recording for session {session!r}", err=True)
        raise typer.Exit(2)
    if len(rows) > 1:
        typer.echo("error: session id exists in several tenants; pass --tenant", err=True)
        raise typer.Exit(2)
    return rows[0]


def _erased(conn: Any, session: str, tenant: str | None) -> bool:
    from services.ledger.models import LedgerSession as S

    stmt = select(S.wrapped_dek).where(S.session_id == session)
    if tenant is not None:
        stmt = stmt.where(S.tenant_id == tenant)
    keys = conn.execute(stmt).all()
    return bool(keys) and all(k[0] is None for k in keys)


def _dek(conn: Any, keys: Any, tenant: str, session: str) -> bytes:
    from services.ledger.models import LedgerSession as S

    wrapped = conn.execute(select(S.wrapped_dek).where(S.tenant_id == tenant,
                                                       S.session_id == session)).scalar()
    if wrapped is None:
        typer.echo("error: the session's key is gone (erased); the audio is unreadable", err=True)
        raise typer.Exit(2)
    return bytes(keys.unwrap_dek(tenant, wrapped, session))


@audio_app.command("export")
def export(
    session_id: Annotated[str, typer.Argument(help="session id")],
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
    unheard: Annotated[bool, typer.Option("--unheard", help="the generated-but-unheard audio")] = False,
    fmt: Annotated[str, typer.Option("--format", help="flac or wav")] = "wav",
    tenant: Annotated[str | None, typer.Option(help="tenant (needed when ids collide)")] = None,
) -> None:
    """Decrypt a recording, verify its recorded hashes and write a standard audio file."""
    import soundfile

    from services.audio.codec import is_flac, stored_pcm, wav_header
    from services.audio.crypto import RecordingCryptoError, decrypt_stream
    from services.audio.job import context_for
    from services.audio.store import Uploads
    from services.platform.db import make_engine
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings

    if fmt not in ("wav", "flac"):
        typer.echo("error: --format must be flac or wav", err=True)
        raise typer.Exit(2)
    kind = "unheard" if unheard else "heard"
    settings = load_settings()
    engine = make_engine(settings)
    with engine.connect() as conn:
        rec = _find(conn, session_id, tenant, kind)
        if rec.status != "complete":
            typer.echo(f"error: the {kind} recording is still being made", err=True)
            raise typer.Exit(2)
        dek = _dek(conn, key_provider(settings), rec.tenant_id,
                   session_id)
    engine.dispose()
    blocks = Uploads(make_s3_client(settings), settings.bucket_audio).read(rec.object_key)
    obj_sha, pcm_sha = hashlib.sha256(), hashlib.sha256()

    def counted() -> Any:
        for block in blocks:
            obj_sha.update(block)
            yield block

    tmp = output.with_name(f".{output.name}.partial")
    try:
        plain = decrypt_stream(dek, context_for(rec.tenant_id, session_id, kind), counted())
        tmp.unlink(missing_ok=True)  # decrypted audio: 0600 from its first byte (O_EXCL)
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw, \
                tempfile.TemporaryFile(dir=tmp.parent) as spool:
            # A FLAC-stored recording is spooled (0600, unnamed) to be decoded: codec.stored_pcm.
            flac = is_flac(rec.object_key)
            rate, channels, pcm = stored_pcm(plain, flac, spool, rec.pcm_bytes,
                                             rec.sample_rate, rec.channels)
            sink: Any = None
            if fmt == "wav":
                raw.write(wav_header(rate, channels, rec.pcm_bytes))
            elif not flac:
                sink = soundfile.SoundFile(raw, "w", rate, channels, "PCM_16", format="FLAC")
            for piece in pcm:
                pcm_sha.update(piece)
                if fmt == "wav":
                    raw.write(piece)
                elif sink is not None:
                    sink.write(np.frombuffer(piece, "<i2").reshape(-1, channels))
            if sink is not None:
                sink.close()
            if fmt == "flac" and flac:
                # The stored FLAC itself (length filled in), as the API serves it.
                spool.seek(0)
                shutil.copyfileobj(spool, raw)
        if obj_sha.hexdigest() != rec.sha256 or pcm_sha.hexdigest() != rec.pcm_sha256:
            raise RecordingCryptoError("recording does not match its recorded SHA-256")
    except (RecordingCryptoError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        typer.echo(f"error: verification failed: {exc}", err=True)
        raise typer.Exit(1) from None
    os.replace(tmp, output)
    typer.echo(json.dumps({"session_id": session_id, "tenant_id": rec.tenant_id, "kind": kind,
                           "output": str(output), "format": fmt, "duration_ms": rec.duration_ms,
                           "sample_rate": rec.sample_rate, "channels": rec.channels,
                           "pcm_sha256": rec.pcm_sha256, "verified": True}))


@audio_app.command("rebuild")
def rebuild_cmd(
    session_id: Annotated[str, typer.Argument(help="session id")],
    tenant: Annotated[str, typer.Option(help="tenant")],
) -> None:
    """Rebuild the recordings from the ledger and compare PCM hashes (exit 1 if they differ)."""
    from services.audio.rebuild import RebuildError, rebuild
    from services.platform.db import make_async_engine
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings

    settings = load_settings()

    async def run() -> dict[str, Any]:
        engine = make_async_engine(settings)
        try:
            found = await rebuild(engine, key_provider(settings),
                                  make_s3_client(settings), settings.bucket_ledger, tenant,
                                  session_id)
        finally:
            await engine.dispose()
        return {k: {"pcm_sha256": v.pcm_sha256, "recorded": v.recorded_pcm_sha256,
                    "duration_ms": v.duration_ms, "matches": v.matches} for k, v in found.items()}

    try:
        result = asyncio.run(run())
    except RebuildError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result))
    if not all(v["matches"] for v in result.values()):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    from services.ledger.sessions_cli import SECTIONS

    SECTIONS["audio"] = audio_section
    app.add_typer(audio_app, name="audio")
