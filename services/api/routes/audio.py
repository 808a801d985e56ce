"""``GET /v1/sessions/{session_id}/audio``: a recording as WAV or FLAC, with HTTP Range.

Reviewer only, with a ``reason``; every request (each range too) is sealed as ``access.audio``
once the recording has been found and opened, before the first byte is sent. One byte range per
request (``bytes=a-b``, ``a-``, ``-n``); several ranges or a malformed header are ignored and
the whole file is sent (RFC 9110 §14.2 allows that); an unsatisfiable range is 416.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from enum import StrEnum
from typing import IO, Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response, StreamingResponse

from services.api import access
from services.api.auth import allow
from services.api.params import RequiredReason, SessionId
from services.api.problems import ApiProblem, not_found, problem_responses
from services.api.state import ApiState, St
from services.api.tokens import Principal, Role

router = APIRouter(tags=["audio"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
BLOCK = 1 << 16


class Track(StrEnum):
    HEARD = "heard"
    UNHEARD = "unheard"


class Format(StrEnum):
    WAV = "wav"
    FLAC = "flac"


MEDIA = {Format.WAV: "audio/wav", Format.FLAC: "audio/flac"}


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) asked for; None for the whole file; ApiProblem 416 when unsatisfiable."""
    if header is None:
        return None
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        first = int(m.group(1))
        last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        if m.group(2) and int(m.group(2)) < first:
            return None  # invalid range-spec: ignore the header
    else:
        n = int(m.group(2))
        first, last = max(0, size - n), size - 1
        if n == 0:
            first = size  # "-0" selects nothing
    if first >= size or size == 0:
        raise ApiProblem(416, "range-not-satisfiable", "Range not satisfiable",
                         f"the file is {size} bytes", {"Content-Range": f"bytes */{size}"})
    return first, last


@router.get("/sessions/{session_id}/audio",
            responses={**problem_responses(401, 403, 404, 409, 410, 416, 422, 429, 502, 503),
                       200: {"content": {"audio/wav": {}, "audio/flac": {}},
                             "description": "the recording"},
                       206: {"content": {"audio/wav": {}, "audio/flac": {}},
                             "description": "the requested byte range"}},
            response_class=Response)
async def audio(
    session_id: SessionId, who: Annotated[Principal, Depends(allow(Role.REVIEWER))],
    st: St, reason: RequiredReason,
    track: Annotated[Track, Query(description="heard (as the caller heard it) or unheard")] = Track.HEARD,
    format: Annotated[Format, Query(description="wav or flac")] = Format.WAV,
    range_: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
) -> Response:
    """The recording, decrypted and checked, as a standard stereo file (caller left, agent
    right). Needs a reason; sealed in the access log before the first byte."""
    from services.audio.crypto import RecordingCryptoError
    from services.audio.reads import Recording, WavReader, flac_file, wav_file

    why = access.check_reason(reason, "audio")
    rec, dek = await _find(st, who.tenant_id, session_id, track.value)
    bucket = st.settings.bucket_audio
    recording = Recording.from_row(rec)
    tmp: IO[bytes] | None = None
    reader: WavReader | None = None
    try:
        if format is Format.WAV and not recording.flac:
            reader = await asyncio.to_thread(WavReader, st.s3, bucket, recording, dek)
            size = reader.rec.wav_size
        else:
            # Stored as FLAC (or FLAC asked of a WAV-stored one): decoded into a checked
            # temporary file (services/audio/reads.py), served from there.
            make = wav_file if format is Format.WAV else flac_file
            tmp = await asyncio.to_thread(make, st.s3, bucket, recording, dek,
                                          st.settings.home / "tmp")
            size = await asyncio.to_thread(lambda: tmp.seek(0, 2) if tmp else 0)
    except RecordingCryptoError:
        if tmp is not None:
            tmp.close()
        raise ApiProblem(502, "recording-corrupt", "Recording failed verification",
                         "the stored recording does not match its recorded hashes; run "
                         "`voxledger verify`") from None
    except (BotoCoreError, ClientError):
        raise ApiProblem(502, "store-failed", "Recording unreadable",
                         "the object store did not return the recording") from None
    try:
        span = byte_range(range_, size)
        first, last = span if span is not None else (0, size - 1)
        await access.record(st, who, "audio", "GET /v1/sessions/{session_id}/audio",
                            reason=why, sessions=[session_id], track=track.value,
                            format=format.value, bytes=f"{first}-{last}")
    except BaseException:
        if tmp is not None:
            tmp.close()
        raise
    body: Iterator[bytes] = (reader.read(first, last) if reader is not None
                             else _from_file(tmp, first, last))  # type: ignore[arg-type]
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(last - first + 1),
               "Cache-Control": "no-store"}
    if span is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(body, status_code=206 if span is not None else 200,
                             media_type=MEDIA[format], headers=headers)


def _from_file(f: IO[bytes], first: int, last: int) -> Iterator[bytes]:
    try:
        f.seek(first)
        left = last - first + 1
        while left > 0:
            block = f.read(min(BLOCK, left))
            if not block:
                break
            left -= len(block)
            yield block
    finally:
        f.close()


async def _find(st: ApiState, tenant: str, session: str, kind: str) -> tuple[Any, bytes]:
    from services.audio.source import session_row
    from services.audio.store import load

    async with st.engine.connect() as conn:
        rec = (await load(conn, tenant, session)).get(kind)
        srow = await session_row(conn, tenant, session) if rec is not None else None
    if rec is None or srow is None:
        raise not_found("recording")
    if rec.status != "complete":
        raise ApiProblem(409, "recording-in-progress", "Recording in progress",
                         f"the {kind} recording is still being made; try again after the call")
    if srow.wrapped_dek is None:
        raise ApiProblem(410, "erased", "Erased", "the session's key was destroyed (erased)")
    dek = await asyncio.to_thread(st.keys.unwrap_dek, tenant, srow.wrapped_dek, session)
    return rec, bytes(dek)
