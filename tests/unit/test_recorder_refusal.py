"""A frame the envelope refuses (too large) raises and leaves no hole in seq."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.envelope import MAX_ENVELOPE_BYTES, Direction, EnvelopeError, Provider
from services.recorder.sdk import Recorder, RecordingSession


class _Pipe:
    closing = False

    def __init__(self) -> None:
        self.items: list[Any] = []

    def offer(self, item: Any) -> None:
        self.items.append(item)


def test_oversized_frame_is_refused_without_a_seq_gap() -> None:
    recorder = Recorder.__new__(Recorder)
    recorder.tenant_id = "acme"
    recorder.subject_prefix = "voice"
    recorder.batch_max_frames = 1  # each frame queued at once (no linger timer, no event loop)
    recorder._open = set()
    from services.recorder.sdk import RecorderStats

    recorder.stats = RecorderStats()
    recorder._pipeline = _Pipe()  # type: ignore[assignment]
    session = RecordingSession(recorder, "call-1", Provider.OPENAI_REALTIME, None, None)
    first = session.record(Direction.SERVER, {"type": "a"})
    with pytest.raises(EnvelopeError):
        session.record(Direction.SERVER, {"type": "b", "delta": "A" * MAX_ENVELOPE_BYTES})
    second = session.record(Direction.SERVER, {"type": "c"})
    assert (first.seq, second.seq) == (0, 1)
    assert recorder.stats.rejected == 1
