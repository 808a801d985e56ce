"""Which field names a frame's type: provider knowledge, owned by ``services.providers.frames``."""

from __future__ import annotations

from services.providers.frames import UNKNOWN_TYPE, frame_type

__all__ = ["UNKNOWN_TYPE", "frame_type"]
