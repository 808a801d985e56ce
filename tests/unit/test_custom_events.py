"""The custom pipeline vocabulary: every type parses, unknown types and fields are refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.custom_events import CUSTOM_EVENT_TYPES, parse_custom_event
from schemas.envelope import Direction, kind_of

FRAMES = [
    {"type": "audio.input", "audio": "AAAA", "codec": "pcm16", "sample_rate": 16000,
     "channels": 1},
    {"type": "audio.output", "audio": "AAAA", "codec": "g711_ulaw", "sample_rate": 8000,
     "channels": 1, "turn_id": "t1"},
    {"type": "transcript.user.partial", "text": "hel", "turn_id": "t0"},
    {"type": "transcript.user.final", "text": "hello", "turn_id": "t0"},
    {"type": "transcript.agent.partial", "text": "Hi", "turn_id": "t1"},
    {"type": "transcript.agent.final", "text": "Hi there", "turn_id": "t1"},
    {"type": "playback.started", "turn_id": "t1"},
    {"type": "playback.stopped", "turn_id": "t1", "heard_ms": 1200},
    {"type": "playback.truncated", "turn_id": "t1", "heard_ms": 0},
    {"type": "tool.call", "call_id": "c1", "name": "lookup", "arguments": "{\"a\": 1}"},
    {"type": "tool.result", "call_id": "c1", "output": "{}", "is_error": False},
    {"type": "turn.started", "turn_id": "t2", "speaker": "user"},
    {"type": "turn.ended", "turn_id": "t2", "speaker": "agent"},
]


@pytest.mark.parametrize("frame", FRAMES, ids=[f["type"] for f in FRAMES])
def test_each_type_round_trips(frame: dict[str, object]) -> None:
    event = parse_custom_event(frame)
    assert event.type == frame["type"]
    assert type(event) is CUSTOM_EVENT_TYPES[str(frame["type"])]
    assert event.model_dump(exclude_unset=False)["type"] == frame["type"]


def test_every_type_has_a_fixture() -> None:
    assert {f["type"] for f in FRAMES} == set(CUSTOM_EVENT_TYPES)


@pytest.mark.parametrize("frame", [
    {"type": "audio.telepathy", "audio": "AAAA"},
    {"type": "playback.truncated", "turn_id": "t1", "heard_ms": -5},
    {"type": "audio.input", "audio": "not base64!"},
    {"type": "audio.input", "audio": "AAAA", "codec": "mp3"},
    {"type": "tool.result", "call_id": "c1", "output": "x", "surprise": 1},
])
def test_bad_frames_are_refused(frame: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_custom_event(frame)


def test_audio_types_route_to_audio_subject() -> None:
    assert kind_of(Direction.CLIENT, "audio.input", {}) == "audio"
    assert kind_of(Direction.SERVER, "audio.output", {}) == "audio"
    assert kind_of(Direction.SERVER, "transcript.user.final", {}) == "event"
