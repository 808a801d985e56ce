"""Where each provider carries audio bytes inside a frame, and how to lift them out (pure).

The sealer keeps audio out of Postgres: every base64 audio field is decoded, its bytes go to a raw
audio segment in S3, and the field is replaced by a reference
``{"$audio": {"sha256", "length", "segment", "offset"}}``. Paths (wire-formats.md):

- OpenAI ``input_audio_buffer.append.audio``; ``response.output_audio.delta.delta`` (GA) and
  ``response.audio.delta.delta`` (beta)
- Twilio ``media.media.payload``
- Gemini ``realtimeInput.audio.data``, ``realtimeInput.mediaChunks[].data``,
  ``serverContent.modelTurn.parts[].inlineData.data`` (snake_case spellings too)
- ElevenLabs ``{"user_audio_chunk": b64}`` and ``audio.audio_event.audio_base_64``
- custom ``audio.input.audio`` / ``audio.output.audio``
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

Path = tuple[str | int, ...]

_B64: Final = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class AudioFieldError(ValueError):
    """An audio field that is not valid base64; the message names the field path, no content."""


@dataclass(frozen=True)
class AudioField:
    path: Path
    data: bytes


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


def candidate_paths(type_: str, payload: dict[str, Any]) -> Iterator[Path]:
    if type_ == "input_audio_buffer.append":
        yield ("audio",)
    elif type_ in ("response.output_audio.delta", "response.audio.delta"):
        yield ("delta",)
    elif type_ == "media":
        yield ("media", "payload")
    elif type_ in ("realtimeInput", "realtime_input", "serverContent", "server_content"):
        yield from _gemini_paths(payload)
    elif type_ == "user_audio_chunk":
        yield ("user_audio_chunk",)
    elif type_ == "audio":
        yield ("audio_event", "audio_base_64")
    elif type_ in ("audio.input", "audio.output"):
        yield ("audio",)


def decode_b64(value: Any, path: Path) -> bytes:
    """Strict base64; missing padding is tolerated because gateways strip it."""
    if not isinstance(value, str):
        raise AudioFieldError(f"audio field {_path_name(path)} is not a string")
    text = value.strip()
    if not _B64.fullmatch(text) or len(text.rstrip("=")) % 4 == 1:
        raise AudioFieldError(f"audio field {_path_name(path)} is not valid base64")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise AudioFieldError(f"audio field {_path_name(path)} is not valid base64") from None


def find_audio(type_: str, payload: dict[str, Any]) -> list[AudioField]:
    """Every audio field of a frame, decoded, in document order. Raises AudioFieldError."""
    found: list[AudioField] = []
    for path in candidate_paths(type_, payload):
        node: Any = payload
        for key in path:
            node = _get(node, key)
            if node is None:
                break
        if node is None:
            continue
        found.append(AudioField(path, decode_b64(node, path)))
    return found


def replace_fields(payload: dict[str, Any], refs: dict[Path, Any]) -> dict[str, Any]:
    """A copy of ``payload`` with the value at each path replaced; the frame itself is kept."""
    out = copy.deepcopy(payload)
    for path, value in refs.items():
        node: Any = out
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return out
