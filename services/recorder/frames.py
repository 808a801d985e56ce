"""Which field names a frame's type, per provider (DESIGN.md "Providers": discriminators differ)."""

from __future__ import annotations

from typing import Any

from schemas.envelope import Provider

UNKNOWN_TYPE = "unknown"


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
    # ASCII only: the envelope's type pattern (and NATS-safe logs) accept nothing else.
    cleaned = "".join(c for c in value if (c.isascii() and c.isalnum()) or c in "_.:/-")
    return cleaned or UNKNOWN_TYPE
