"""Provider knowledge about one frame (pure): its type, whether it is audio, where its audio
bytes are, and how long they play.

This is the one place that knows each provider's audio fields (wire-formats.md):

- OpenAI ``input_audio_buffer.append.audio``; ``response.output_audio.delta.delta`` (GA) and
  ``response.audio.delta.delta`` (beta)
- Twilio ``media.media.payload``
- Gemini ``realtimeInput.audio.data``, ``realtimeInput.mediaChunks[].data``,
  ``serverContent.modelTurn.parts[].inlineData.data`` (snake_case spellings too)
- ElevenLabs ``{"user_audio_chunk": b64}`` and ``audio.audio_event.audio_base_64``
- custom ``audio.input.audio`` / ``audio.output.audio``

The sealer lifts the bytes out of these fields (:func:`find_audio`, :func:`replace_fields`), the
recorder names a frame's type and subject kind (:func:`frame_type`, :func:`kind_of`), and the
interpreters measure them (:func:`audio_length`). A frame's *format* depends on the session's
state (``session.update``, ``conversation_initiation_metadata``), so it is answered by the
interpreter (:class:`services.providers.interpret.Interpretation`), which reads these same fields.

Why the audio-type table lives in ``schemas``: the NATS subject kind (``…audio`` / ``…event``) is
part of the envelope contract, computed by ``Envelope.kind`` wherever an envelope exists, and
``schemas`` imports nothing from ``services`` (DESIGN.md). So ``schemas.envelope`` keeps the
table and ``kind_of``; this module re-exports them and keys its field table on the same names, and
an import-time check refuses any drift between the two.

Errors: :class:`AudioFieldError` (a field that is not base64; the message names the path only).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from schemas.envelope import AUDIO_TYPES, Provider, kind_of
from services.providers.timeline import AudioFormat

__all__ = [
    "AUDIO_TYPES", "UNKNOWN_TYPE", "AudioField", "AudioFieldError", "Path", "audio_length",
    "audio_lengths", "candidate_paths", "decode_b64", "duration_ms", "find_audio", "frame_type",
    "kind_of", "length_stand_in", "replace_fields",
]

Path = tuple[str | int, ...]
UNKNOWN_TYPE: Final = "unknown"

_B64: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_CLEAN_TYPE: Final = re.compile(r"[A-Za-z0-9_.:/-]+")  # what frame_type keeps of a type


class AudioFieldError(ValueError):
    """An audio field that is not valid base64; the message names the field path, no content."""


@dataclass(frozen=True)
class AudioField:
    path: Path
    data: bytes


# -- the frame's type ------------------------------------------------------------------------
def frame_type(provider: Provider, frame: dict[str, Any]) -> str:
    """The envelope ``type`` of a provider frame. Never raises: odd frames become ``unknown``."""
    value: Any = None
    if provider in (Provider.OPENAI_REALTIME, Provider.OPENAI_REALTIME_BETA, Provider.CUSTOM):
        value = frame.get("type")
    elif provider is Provider.TWILIO_MEDIA:
        value = frame.get("event")
        if value is None and isinstance(frame.get("type"), str):
            value = frame["type"]  # a bridged session also carries the model leg's OpenAI frames
    elif provider is Provider.ELEVENLABS:
        value = frame.get("type")
        if value is None:
            # bare client frames: {"user_audio_chunk": "..."}, {"user_message": ...}
            value = next((k for k in frame if isinstance(k, str)), None)
    elif provider is Provider.GEMINI_LIVE:
        # key-discriminated: the first top-level key other than the optional usage metadata
        keys = [k for k in frame if k not in ("usageMetadata", "usage_metadata")]
        value = keys[0] if keys else (next(iter(frame), None))
    if not isinstance(value, str) or not value or len(value) > 128:
        return UNKNOWN_TYPE
    if _CLEAN_TYPE.fullmatch(value):
        return value  # nearly every frame (the recorder names each one): nothing to remove
    # ASCII only: the envelope's type pattern (and NATS-safe logs) accept nothing else.
    cleaned = "".join(c for c in value if (c.isascii() and c.isalnum()) or c in "_.:/-")
    return cleaned or UNKNOWN_TYPE


# -- where the audio bytes are ---------------------------------------------------------------
def _path_name(path: Path) -> str:
    return ".".join(str(p) for p in path)


def _get(obj: Any, key: str | int) -> Any:
    if isinstance(key, int):
        return obj[key] if isinstance(obj, list) and 0 <= key < len(obj) else None
    return obj.get(key) if isinstance(obj, dict) else None


def _first_key(obj: Any, *names: str) -> str | None:
    if isinstance(obj, dict):
        for name in names:
            if name in obj:
                return name
    return None


def _gemini_paths(payload: dict[str, Any]) -> Iterator[Path]:
    top = _first_key(payload, "realtimeInput", "realtime_input")
    if top is not None:
        ri = payload[top]
        if isinstance(_get(ri, "audio"), dict):
            yield (top, "audio", "data")
        chunks_key = _first_key(ri, "mediaChunks", "media_chunks")
        if chunks_key is not None and isinstance(ri[chunks_key], list):
            for i in range(len(ri[chunks_key])):
                yield (top, chunks_key, i, "data")
    top = _first_key(payload, "serverContent", "server_content")
    if top is not None:
        sc = payload[top]
        turn_key = _first_key(sc, "modelTurn", "model_turn")
        parts = _get(_get(sc, turn_key), "parts") if turn_key else None
        if isinstance(parts, list):
            for i, part in enumerate(parts):
                inline = _first_key(part, "inlineData", "inline_data")
                if inline is not None:
                    mime = _get(part[inline], "mimeType") or _get(part[inline], "mime_type")
                    if mime is None or (isinstance(mime, str) and mime.startswith("audio")):
                        yield (top, turn_key, "parts", i, inline, "data")  # type: ignore[misc]


def _fixed(*path: str | int) -> Callable[[dict[str, Any]], Iterator[Path]]:
    def paths(payload: dict[str, Any]) -> Iterator[Path]:
        yield path
    return paths


# Every type that can carry audio → where. Gemini's ``serverContent`` carries audio only when a
# part has inline audio data, which ``kind_of`` checks on the payload.
_PATHS: Final[dict[str, Callable[[dict[str, Any]], Iterator[Path]]]] = {
    "input_audio_buffer.append": _fixed("audio"),
    "response.output_audio.delta": _fixed("delta"),
    "response.audio.delta": _fixed("delta"),
    "media": _fixed("media", "payload"),
    "realtimeInput": _gemini_paths, "realtime_input": _gemini_paths,
    "serverContent": _gemini_paths, "server_content": _gemini_paths,
    "user_audio_chunk": _fixed("user_audio_chunk"),
    "audio": _fixed("audio_event", "audio_base_64"),
    "audio.input": _fixed("audio"), "audio.output": _fixed("audio"),
}
_CONTENT_TYPES: Final = frozenset({"serverContent", "server_content"})
if set(_PATHS) != AUDIO_TYPES | _CONTENT_TYPES:  # pragma: no cover - an edit that drifted
    raise RuntimeError("services.providers.frames and schemas.envelope.AUDIO_TYPES disagree")


def candidate_paths(type_: str, payload: dict[str, Any]) -> Iterator[Path]:
    """Where audio fields of a frame of this type may be, in document order."""
    paths = _PATHS.get(type_)
    return paths(payload) if paths is not None else iter(())


def _value(payload: dict[str, Any], path: Path) -> Any:
    node: Any = payload
    for key in path:
        node = _get(node, key)
        if node is None:
            return None
    return node


def decode_b64(value: Any, path: Path) -> bytes:
    """Strict base64; missing padding is tolerated because gateways strip it."""
    if not isinstance(value, str):
        raise AudioFieldError(f"audio field {_path_name(path)} is not a string")
    text = value.strip()
    data = len(text.rstrip("="))
    # What `_B64.fullmatch` with a base64 decode would accept, in one pass over the text: strict
    # mode refuses any character outside the alphabet and padding anywhere but at the end, so
    # only the padding's length is left to check (at most two, as the pattern says).
    if data % 4 == 1 or len(text) - data > 2:
        raise AudioFieldError(f"audio field {_path_name(path)} is not valid base64")
    try:
        return binascii.a2b_base64(text + "=" * (-len(text) % 4), strict_mode=True)
    except (binascii.Error, ValueError):
        raise AudioFieldError(f"audio field {_path_name(path)} is not valid base64") from None


def find_audio(type_: str, payload: dict[str, Any]) -> list[AudioField]:
    """Every audio field of a frame, decoded, in document order. Raises AudioFieldError."""
    found: list[AudioField] = []
    for path in candidate_paths(type_, payload):
        node = _value(payload, path)
        if node is not None:
            found.append(AudioField(path, decode_b64(node, path)))
    return found


def replace_fields(payload: dict[str, Any], refs: dict[Path, Any]) -> dict[str, Any]:
    """A copy of ``payload`` with the value at each path replaced; the frame itself is kept.

    Only the objects and arrays on the paths are copied; the rest is shared with ``payload``
    (never written to: a deep copy of every frame was 7% of the sealer's plan_batch)."""
    out = dict(payload)
    copies = {id(out)}
    for path, value in refs.items():
        node: Any = out
        for key in path[:-1]:
            child = node[key]
            if id(child) not in copies:
                child = dict(child) if isinstance(child, dict) else list(child)
                copies.add(id(child))
                node[key] = child
            node = child
        node[path[-1]] = value
    return out


# -- how long ---------------------------------------------------------------------------------
# Stand-ins for sealed audio fields (see length_stand_in), by text: their lengths are known.
_STAND_INS: dict[str, int] = {}
_STAND_INS_BY_LENGTH: dict[int, str] = {}
_MAX_STAND_INS: Final = 256


def length_stand_in(length: int) -> str:
    """What a ledger reader puts in an audio field whose bytes the interpreters need not see:
    base64 of ``length`` zero bytes (the length is all they read of a field). Valid base64
    like any other, but :func:`audio_length` knows its length without scanning its text (a
    regex over every frame's ~1,300 characters, 5-9 µs of each audio entry, and encoding the
    real bytes to base64 only to be measured cost as much again)."""
    text = _STAND_INS_BY_LENGTH.get(length)
    if text is None:
        if len(_STAND_INS) >= _MAX_STAND_INS:  # frame sizes vary little; never unbounded
            _STAND_INS.clear()
            _STAND_INS_BY_LENGTH.clear()
        text = base64.b64encode(bytes(length)).decode("ascii")
        _STAND_INS[text] = length
        _STAND_INS_BY_LENGTH[length] = text
    return text


def audio_length(value: Any) -> int | None:
    """Decoded byte length of a base64 audio field without decoding it; ``None`` if invalid."""
    if not isinstance(value, str):
        return None
    known = _STAND_INS.get(value)
    if known is not None:
        return known
    text = value.strip()
    data = len(text.rstrip("="))
    if not _B64.fullmatch(text) or data % 4 == 1 or (data == 0 and text):
        return None
    # Every 4 characters are 3 bytes, a tail of 2 or 3 is 1 or 2 (no need to decode: this runs
    # for every audio frame of every rebuild).
    return data * 3 // 4


def audio_lengths(type_: str, payload: dict[str, Any]) -> list[tuple[Path, int | None]]:
    """Each present audio field and its decoded length (``None``: not valid base64)."""
    out: list[tuple[Path, int | None]] = []
    for path in candidate_paths(type_, payload):
        node = _value(payload, path)
        if node is not None:
            out.append((path, audio_length(node)))
    return out


def duration_ms(nbytes: int, fmt: AudioFormat) -> float:
    """How long ``nbytes`` of audio in ``fmt`` play."""
    return nbytes / fmt.bytes_per_ms
