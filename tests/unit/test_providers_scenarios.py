"""Sessions the interpreters must get right: real OpenAI logs, late transcripts, bridging."""

from __future__ import annotations

import base64

from services.providers import interpret
from tests.unit.providers_support import Session, load


def frames(prefix: str) -> list[dict[str, object]]:
    return [c for c in load("openai") if c["name"].startswith(prefix)]


def test_real_log_2_completed_response_cut_at_1860_ms() -> None:
    s = Session("openai-realtime-beta")
    for i, block in enumerate(["wf-block21-", "wf-block22-", "wf-block23-", "wf-block24-"]):
        (case,) = frames(block)
        s.add(case["direction"], case["frame"], 100.0 * i)  # type: ignore[arg-type]
    tl = interpret(s.envs)
    turn = tl.turn("item_BaU74LY2Poiq8lBMVXZ4R")
    assert turn is not None and turn.status == "truncated" and turn.heard_ms == 1860
    assert tl.truncations[0].heard_ms == 1860 and not tl.frame_errors


def test_real_log_1_cancelled_response_never_heard() -> None:
    s = Session("openai-realtime-beta")
    for i, case in enumerate(frames("wf-block25-")):
        s.add(case["direction"], case["frame"], 10.0 * i)  # type: ignore[arg-type]
    tl = interpret(s.envs)
    turn = tl.turn("item_BaPtUZfxHwFFLK5kXZr0p")
    assert turn is not None
    assert (turn.status, turn.heard_ms, turn.heard_text) == ("interrupted", 0, "")
    assert turn.generated_text == "I'm going to transfer"
    assert tl.usage[0].total_tokens == 1431


def audio(ms: int, bytes_per_ms: int) -> str:
    return base64.b64encode(b"\xff" * (ms * bytes_per_ms)).decode()


def test_late_user_transcript_joins_on_item_id_and_format_change_applies() -> None:
    s = Session("openai-realtime")
    s.add("client", {"type": "session.update", "session": {"type": "realtime", "audio": {
        "input": {"format": {"type": "audio/pcmu"}}, "output": {"format": {"type": "audio/pcmu"}}}}},
        0)
    s.add("client", {"type": "input_audio_buffer.append", "audio": audio(1000, 8)}, 1000)
    s.add("server", {"type": "input_audio_buffer.speech_started", "item_id": "u1",
                     "audio_start_ms": 200}, 1000)
    s.add("server", {"type": "response.output_audio.delta", "item_id": "a1", "delta":
                     audio(500, 8)}, 1100)
    s.add("server", {"type": "conversation.item.input_audio_transcription.completed",
                     "item_id": "u1", "transcript": "late words"}, 1200)
    tl = interpret(s.envs)
    assert tl.track("caller")[0].format.codec == "g711_ulaw"
    assert tl.track("caller")[0].duration_ms == 1000
    user = tl.turn("u1")
    assert user is not None and user.transcript == "late words" and user.start_ms == 1200
    assert [t.turn_id for t in tl.turns] == ["a1", "u1"]


def test_bridged_call_takes_audio_and_heard_from_the_phone_leg() -> None:
    s = Session("twilio-media")
    s.add("server", {"event": "start", "start": {"mediaFormat": {
        "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}, 0)
    s.add("server", {"event": "media", "media": {"track": "inbound", "payload": audio(20, 8)}}, 20)
    s.add("client", {"type": "input_audio_buffer.append", "audio": audio(20, 8)}, 21,
          provider="openai-realtime")
    for i in range(10):  # 10 x 100 ms of agent audio, forwarded to the phone with a mark each
        s.add("server", {"type": "response.output_audio.delta", "item_id": "a1",
                         "delta": audio(100, 8)}, 100 + i, provider="openai-realtime")
        s.add("client", {"event": "media", "media": {"payload": audio(100, 8)}}, 100 + i)
        s.add("client", {"event": "mark", "mark": {"name": f"m{i}"}}, 100 + i)
    for i in range(3):  # 300 ms played
        s.add("server", {"event": "mark", "mark": {"name": f"m{i}"}}, 200 + 100 * i)
    s.add("client", {"event": "clear"}, 450)
    s.add("server", {"event": "mark", "mark": {"name": "m3"}}, 455)
    tl = interpret(s.envs)
    assert tl.bridged and not tl.frame_errors
    assert sum(c.byte_length for c in tl.track("caller")) == 160  # the model's copy not counted
    turn = tl.turn("a1")
    assert turn is not None and turn.status == "truncated"
    assert turn.generated_ms == 1000 and turn.heard_ms == 350  # playback clock between marks
