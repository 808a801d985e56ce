"""Field readers shared by the interpreters: audio formats, base64, typed field access.

Every reader raises ``FrameProblem`` with a content-free reason; the dispatcher turns it into a
``FrameError`` for that frame only (DESIGN.md law 9: bad input never stops the pipeline).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from services.providers.frames import audio_length
from services.providers.timeline import AudioFormat, Codec


class FrameProblem(Exception):
    """A frame that cannot be interpreted. ``reason`` names the field or rule, never a value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


PCM24K: Final = AudioFormat("pcm16", 24000, 1)
PCM16K: Final = AudioFormat("pcm16", 16000, 1)
ULAW8K: Final = AudioFormat("g711_ulaw", 8000, 1)

_CODECS: Final[dict[str, Codec]] = {
    # every spelling OpenAI's own agents SDK accepts (wire-formats.md §1.2), plus Twilio's
    "pcm16": "pcm16", "audio/pcm": "pcm16", "pcm": "pcm16",
    "g711_ulaw": "g711_ulaw", "audio/pcmu": "g711_ulaw", "pcmu": "g711_ulaw",
    "audio/x-mulaw": "g711_ulaw", "ulaw": "g711_ulaw", "mulaw": "g711_ulaw",
    "g711_alaw": "g711_alaw", "audio/pcma": "g711_alaw", "pcma": "g711_alaw",
    "alaw": "g711_alaw",
}
_MIME_RATE: Final = re.compile(r"rate=(\d{4,6})")


def b64_length(value: Any, field: str) -> int:
    """Decoded byte length of a base64 audio field (measured by ``frames.audio_length``, the
    one reader of audio fields), or a ``FrameProblem`` naming the field."""
    if not isinstance(value, str):
        raise FrameProblem(f"wrong_type:{field}")
    length = audio_length(value)
    if length is None:
        raise FrameProblem(f"invalid_base64:{field}")
    return length


def codec_of(name: Any) -> Codec | None:
    return _CODECS.get(name.lower()) if isinstance(name, str) else None


def make_format(codec: Codec, rate: Any = None, channels: Any = 1) -> AudioFormat:
    if codec != "pcm16":
        rate = 8000 if rate is None else rate  # G.711 is 8 kHz by definition
    if not isinstance(rate, int) or isinstance(rate, bool) or not 4000 <= rate <= 192000:
        rate = 24000 if rate is None else None
    if rate is None:
        raise FrameProblem("invalid_sample_rate")
    if not isinstance(channels, int) or channels not in (1, 2):
        raise FrameProblem("invalid_channels")
    return AudioFormat(codec, rate, channels)


def openai_format(value: Any) -> AudioFormat | None:
    """Beta string (``pcm16``, ``g711_ulaw``) or GA object (``{"type": "audio/pcm", "rate"}``)."""
    if value is None:
        return None
    if isinstance(value, str):
        codec = codec_of(value)
        rate = None
    elif isinstance(value, dict):
        codec = codec_of(value.get("type"))
        rate = value.get("rate")
    else:
        raise FrameProblem("wrong_type:audio_format")
    if codec is None:
        raise FrameProblem("unknown_audio_format")
    return make_format(codec, 24000 if codec == "pcm16" and rate is None else rate)


def mime_format(mime: Any, default_rate: int) -> AudioFormat:
    """Gemini: ``audio/pcm;rate=16000`` (always PCM16 LE; the rate may be omitted)."""
    if mime is None:
        return make_format("pcm16", default_rate)
    if not isinstance(mime, str):
        raise FrameProblem("wrong_type:mimeType")
    base = mime.split(";", 1)[0].strip().lower()
    if base not in ("audio/pcm", "audio/l16", "audio/raw", ""):
        raise FrameProblem("unsupported_mime_type")
    match = _MIME_RATE.search(mime)
    return make_format("pcm16", int(match.group(1)) if match else default_rate)


def elevenlabs_format(value: Any) -> AudioFormat | None:
    """``pcm_16000``, ``ulaw_8000`` … as announced in ``conversation_initiation_metadata``."""
    if value is None:
        return None
    if not isinstance(value, str) or "_" not in value:
        raise FrameProblem("unknown_audio_format")
    name, _, rate = value.partition("_")
    codec = codec_of(name)
    if codec is None or not rate.isdigit():
        raise FrameProblem("unknown_audio_format")
    return make_format(codec, int(rate))


def _first(obj: dict[str, Any], keys: tuple[str, ...], kind: type, required: bool) -> Any:
    """The value of the first present key among spellings, checked against ``kind``."""
    for key in keys:
        if key in obj and obj[key] is not None:
            value = obj[key]
            if not isinstance(value, kind):
                raise FrameProblem(f"wrong_type:{key}")
            return value
    if required:
        raise FrameProblem(f"missing_field:{keys[0]}")
    return None


def get_dict(obj: dict[str, Any], *keys: str, required: bool = False) -> dict[str, Any]:
    """The first present key among spellings (Gemini sends camelCase and snake_case)."""
    value: dict[str, Any] | None = _first(obj, keys, dict, required)
    return {} if value is None else value


def get_str(obj: dict[str, Any], *keys: str, required: bool = False) -> str | None:
    value: str | None = _first(obj, keys, str, required)
    return value


def get_int(obj: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise FrameProblem(f"missing_field:{key}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FrameProblem(f"wrong_type:{key}")
    return int(value)


def get_list(obj: dict[str, Any], *keys: str) -> list[Any]:
    value: list[Any] | None = _first(obj, keys, list, False)
    return [] if value is None else value


def to_json(value: Any) -> str:
    """Tool arguments that arrive as objects, as compact JSON text in wire order."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
