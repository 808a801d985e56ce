"""What the transcript builder keeps of each envelope: the frame without its audio bytes (pure).

Interpreters need audio *lengths* (caller time is samples appended, agent time is playback
position, heard text is cut in proportion to heard/generated audio), never the samples. So each
base64 audio field is replaced by its decoded length on the way in, and by a base64 string of that
many zero bytes on the way out: the interpreter reads the same lengths, and a stored session costs
a few dozen bytes per audio frame instead of kilobytes.

The subject identifiers of ``session.started`` (phone, email, customer id) are dropped: no
transcript needs them, and they belong only in the ledger's encrypted payloads (DESIGN.md law 7).
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from schemas.envelope import Direction, Envelope, Provider
from services.ledger.audio_fields import AudioFieldError, find_audio, replace_fields

# Placeholder for an audio field that was not valid base64: restored as a string the
# interpreter rejects, so the frame still becomes a FrameError, as it would have live.
INVALID_AUDIO: Final = -1


@dataclass(frozen=True)
class StoredFrame:
    """One envelope as kept in ``transcript_frames``."""

    seq: int
    event_id: str
    provider: str
    direction: str
    type: str
    kind: str
    mono_ns: int
    recorded_at: datetime
    payload: dict[str, Any]
    audio: list[list[Any]] | None  # [[path, decoded length], ...]


def compact(env: Envelope) -> StoredFrame:
    payload = env.payload
    audio: list[list[Any]] | None = None
    try:
        fields = find_audio(env.type, payload)
        lengths = {f.path: len(f.data) for f in fields}
    except AudioFieldError:
        # Which field was bad is not known here: mark every candidate as invalid.
        from services.ledger.audio_fields import candidate_paths

        lengths = {p: INVALID_AUDIO for p in candidate_paths(env.type, payload)}
    if lengths:
        payload = replace_fields(payload, {p: None for p in lengths})
        audio = [[list(p), n] for p, n in lengths.items()]
    if env.direction is Direction.SYSTEM and env.type == "session.started" and "subject" in payload:
        payload = {k: v for k, v in payload.items() if k != "subject"}
    return StoredFrame(env.seq, env.event_id, env.provider.value, env.direction.value, env.type,
                       env.kind, env.mono_ns, env.recorded_at, payload, audio)


@lru_cache(maxsize=256)
def _zeros_b64(length: int) -> str:
    return "!" if length < 0 else base64.b64encode(bytes(length)).decode("ascii")


# One set for every restored envelope instead of a ~700-byte set each: the builder keeps live
# sessions' envelopes in memory (``cache.py``). Safe to share: an Envelope is frozen, and copies
# copy the set.
_RESTORED_FIELDS: Final = {"event_id", "tenant_id", "session_id", "seq", "provider", "direction",
                           "type", "recorded_at", "mono_ns", "payload"}


def restore(frame: StoredFrame, tenant_id: str, session_id: str) -> Envelope:
    """The envelope the interpreter sees: same fields, audio fields as zeros of the same length."""
    payload = frame.payload
    if frame.audio:
        payload = copy.deepcopy(payload)
        for path, length in frame.audio:
            node: Any = payload
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = _zeros_b64(int(length))
    # Stored frames were validated envelopes on the way in; skip re-validation on every replay.
    return Envelope.model_construct(
        _fields_set=_RESTORED_FIELDS, event_id=frame.event_id, tenant_id=tenant_id,
        session_id=session_id, seq=frame.seq, provider=Provider(frame.provider),
        direction=Direction(frame.direction), type=frame.type, recorded_at=frame.recorded_at,
        mono_ns=frame.mono_ns, payload=payload)
