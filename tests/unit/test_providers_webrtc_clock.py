"""Where the record holds no audio (OpenAI over WebRTC), turns are timed by the provider's own
clocks (VAD ``audio_*_ms``, ``output_audio_buffer.*``), and typed turns are marked as typed."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from services.providers import interpret
from services.providers.timeline import Turn
from tests.unit.providers_support import env

LOG = Path(__file__).resolve().parents[1] / "fixtures" / "transcripts" / \
    "openai_beta_webrtc_log_1.jsonl"
PCM_100MS = base64.b64encode(bytes(4800)).decode()  # 100 ms of PCM16 24 kHz


def _turns(frames: list[tuple[float, dict[str, Any]]], provider: str = "openai-realtime"
           ) -> dict[str, Turn]:
    envs = [env(i, provider, "client" if f["type"].startswith(("input_audio_buffer.append",
                                                                "conversation.item.create"))
                else "server", f, ms=ms) for i, (ms, f) in enumerate(frames)]
    timeline = interpret(envs)
    assert timeline.frame_errors == ()
    return {t.turn_id: t for t in timeline.turns}


def test_real_webrtc_log_is_timed_by_the_provider_clocks() -> None:
    rows = [json.loads(line) for line in LOG.read_text().splitlines()]
    t0 = rows[0]["recorded_at"]
    envs = [env(i, "openai-realtime-beta", r["direction"], r["frame"],
                ms=round((r["recorded_at"] - t0) * 1000)) for i, r in enumerate(rows)]
    got = [(t.speaker, t.status, t.start_ms, t.end_ms, t.heard_ms, t.modality)
           for t in interpret(envs).turns]
    assert got == [
        # cleared at 400 ms (its truncated echo came at 500); heard 4000 ms, began before the log
        ("agent", "truncated", 0.0, 400.0, 4000.0, "audio"),
        # VAD 4308..4896 ms of input audio; the stop arrived at 600 ms, so speech began 588 ms
        # earlier (the start event's own arrival, 300 ms, came after the speech began)
        ("caller", "completed", 12.0, 600.0, None, "audio"),
        # playback began at output_audio_buffer.started (1900 ms), not at generation (1100 ms)
        ("agent", "completed", 1900.0, 3100.0, None, "audio"),
        ("agent", "interrupted", 3200.0, 3400.0, 0.0, "audio"),
    ]


# wire-formats.md §1: VAD offsets and the WebRTC playback markers, with real payload shapes.
SPEECH = [
    (5300.0, {"event_id": "event_1516", "type": "input_audio_buffer.speech_started",
              "audio_start_ms": 1000, "item_id": "msg_003"}),
    (6900.0, {"event_id": "event_1718", "type": "input_audio_buffer.speech_stopped",
              "audio_end_ms": 2000, "item_id": "msg_003"}),
]
PLAY = [
    (6500.0, {"type": "response.output_item.added", "response_id": "resp_abc123",
              "item": {"id": "item_a", "type": "message", "role": "assistant", "content": []}}),
    (7000.0, {"event_id": "event_abc123", "type": "output_audio_buffer.started",
              "response_id": "resp_abc123"}),
    (7100.0, {"type": "response.audio_transcript.done", "item_id": "item_a",
              "response_id": "resp_abc123", "transcript": "Sure."}),
    (8200.0, {"event_id": "event_abc124", "type": "output_audio_buffer.stopped",
              "response_id": "resp_abc123"}),
]
CLEARED = [
    *PLAY[:3],
    (7600.0, {"event_id": "event_abc125", "type": "output_audio_buffer.cleared",
              "response_id": "resp_abc123"}),
    (7700.0, {"type": "conversation.item.truncated", "item_id": "item_a", "content_index": 0,
              "audio_end_ms": 550}),
]

CASES: list[tuple[str, list[tuple[float, dict[str, Any]]], str, float, float]] = [
    # no event arrives before the audio it describes: the clock's zero is at most
    # 5300 - 1000 ms (and 6900 - 2000 ms), so speech 5300..6300, 1000 ms long as the provider
    # measured it (by arrival it would last 1600 ms: the stop waits for the silence window)
    ("vad offsets on the provider clock", SPEECH, "msg_003", 5300.0, 6300.0),
    ("playback started and stopped", PLAY, "item_a", 7000.0, 8200.0),
    ("playback cleared: heard position from the truncate", CLEARED, "item_a", 7000.0, 7550.0),
]


@pytest.mark.parametrize(("name", "frames", "turn", "start", "end"), CASES)
def test_turns_without_audio_follow_the_provider_clock(
        name: str, frames: list[tuple[float, dict[str, Any]]], turn: str, start: float,
        end: float) -> None:
    t = _turns(frames)[turn]
    assert (t.start_ms, t.end_ms) == (start, end)


def test_with_caller_audio_vad_offsets_still_follow_the_samples() -> None:
    appends = [(100.0 * i, {"type": "input_audio_buffer.append", "audio": PCM_100MS})
               for i in range(30)]
    t = _turns([*appends, *SPEECH])["msg_003"]
    assert (t.start_ms, t.end_ms) == (1000.0, 2000.0)  # 1000 ms into the appended audio


@pytest.mark.parametrize(("content", "modality"), [
    ([{"type": "input_text", "text": "hi"}], "text"),
    ([{"type": "input_audio", "transcript": "hi"}], "audio"),
])
def test_a_typed_turn_is_marked_as_typed(content: list[dict[str, Any]], modality: str) -> None:
    added = {"type": "conversation.item.added", "event_id": "event_C9G8pjSJCfRNEhMEnYAVy",
             "previous_item_id": None,
             "item": {"id": "item_C9G8pGVKYnaZu8PH5YQ9O", "type": "message",
                      "status": "completed", "role": "user", "content": content}}
    t = _turns([(10.0, added)])["item_C9G8pGVKYnaZu8PH5YQ9O"]
    assert (t.speaker, t.transcript, t.modality) == ("caller", "hi", modality)


def test_sessions_show_marks_a_typed_turn() -> None:
    from services.transcripts.render import transcript_lines

    row = {"speaker": "caller", "status": "completed", "start_ms": 10, "end_ms": 10,
           "text": "hi", "heard_text": "hi", "approximate": False, "heard_ms": None,
           "generated_ms": None, "withheld": None}
    (typed,) = transcript_lines([{**row, "modality": "text"}], [])
    (spoken,) = transcript_lines([{**row, "modality": "audio"}], [])
    assert "⌨ typed" in typed and "typed" not in spoken
