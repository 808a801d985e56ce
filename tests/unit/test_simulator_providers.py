"""Provider frames: deterministic, valid JSON objects with the provider's discriminator, and the
barge-in, truncation and tool-call mechanics of each wire format."""

from __future__ import annotations

import base64
import json
from functools import cache

import pytest

from schemas.custom_events import parse_custom_event
from schemas.envelope import Provider
from services.recorder.frames import UNKNOWN_TYPE, frame_type
from services.simulator.frames import Frame
from services.simulator.providers import PROFILES
from services.simulator.run import plan
from services.simulator.script import Script, build_script

NAMES = list(PROFILES)


@cache
def _session(name: str) -> tuple[Script, tuple[Frame, ...]]:
    script = build_script(f"{name}:11:0")
    return script, tuple(plan(name, script))


def _types(name: str, direction: str | None = None) -> list[str]:
    profile = PROFILES[name]
    return [frame_type(f.provider or profile.provider, f.payload)
            for f in _session(name)[1]
            if f.direction != "system" and direction in (None, f.direction)]


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_frames(name: str) -> None:
    script = build_script(f"{name}:5:1")
    a = [(f.at_ms, f.direction, json.dumps(f.payload, sort_keys=True)) for f in plan(name, script)]
    b = [(f.at_ms, f.direction, json.dumps(f.payload, sort_keys=True)) for f in plan(name, script)]
    assert a == b
    other = plan(name, build_script(f"{name}:6:1"))
    assert [f.payload for f in other] != [f.payload for f in plan(name, script)]


@pytest.mark.parametrize("name", NAMES)
def test_frames_are_json_objects_in_time_order(name: str) -> None:
    _, frames = _session(name)
    times = [f.at_ms for f in frames]
    assert times == sorted(times) and times[0] >= 0
    for f in frames:
        assert isinstance(json.loads(json.dumps(f.payload)), dict)
        assert f.direction in ("client", "server", "system")
    assert UNKNOWN_TYPE not in _types(name)


def test_openai_ga_flow() -> None:
    script, frames = _session("openai")
    types = _types("openai")
    for t in ("session.created", "session.update", "input_audio_buffer.append",
              "response.output_audio.delta", "response.output_audio_transcript.delta",
              "response.output_audio_transcript.done",
              "conversation.item.input_audio_transcription.completed",
              "response.function_call_arguments.done", "conversation.item.truncate",
              "conversation.item.truncated"):
        assert t in types, t
    assert "response.audio.delta" not in types
    cancelled = [f.payload for f in frames if f.payload.get("type") == "response.done"
                 and f.payload["response"]["status"] == "cancelled"]
    assert cancelled and cancelled[0]["response"]["status_details"]["reason"] == "turn_detected"
    truncates = [f.payload["audio_end_ms"] for f in frames
                 if f.payload.get("type") == "conversation.item.truncate"]
    assert sorted(truncates) == sorted(t.heard_ms for t in script.turns if t.status != "completed")
    assert 0 in truncates
    outputs = [f for f in frames if f.payload.get("type") == "conversation.item.create"]
    assert outputs[0].direction == "client"
    assert outputs[0].payload["item"]["type"] == "function_call_output"


def test_openai_input_chunks_and_late_user_transcripts() -> None:
    script, frames = _session("openai")
    sizes = {len(base64.b64decode(f.payload["audio"])) for f in frames
             if f.payload.get("type") == "input_audio_buffer.append"}
    assert all(s % 48 == 0 and s <= 100 * 48 for s in sizes) and max(sizes) >= 20 * 48
    total = sum(len(base64.b64decode(f.payload["audio"])) for f in frames
                if f.payload.get("type") == "input_audio_buffer.append")
    assert total == script.duration_ms * 48
    # a user transcript lands after the following response was created
    order = [f.payload.get("type") for f in frames]
    first_done = order.index("conversation.item.input_audio_transcription.completed")
    assert "response.created" in order[order.index("input_audio_buffer.speech_stopped"):first_done]


def test_agent_audio_exceeds_heard_for_cut_turns() -> None:
    script, frames = _session("openai")
    item_bytes: dict[str, int] = {}
    for f in frames:
        if f.payload.get("type") == "response.output_audio.delta":
            item_bytes[f.payload["item_id"]] = (item_bytes.get(f.payload["item_id"], 0)
                                                + len(base64.b64decode(f.payload["delta"])))
    generated = sorted(b // 48 for b in item_bytes.values())
    assert generated == sorted(t.duration_ms for t in script.turns if t.speaker == "agent")


def test_openai_beta_names() -> None:
    types = _types("openai-beta")
    assert "response.audio.delta" in types and "response.audio_transcript.done" in types
    assert "response.output_audio.delta" not in types
    assert all(f.provider is None for f in _session("openai-beta")[1])


def test_gemini_flow() -> None:
    script, frames = _session("gemini")
    types = _types("gemini")
    assert types[0] == "setup" and "setupComplete" in types and "toolCall" in types
    assert "toolResponse" in _types("gemini", "client")
    mimes = {f.payload["realtimeInput"]["audio"]["mimeType"] for f in frames
             if "realtimeInput" in f.payload}
    assert mimes == {"audio/pcm;rate=16000"}
    interrupted = [f.at_ms for f in frames if f.payload.get("serverContent", {}).get("interrupted")]
    cuts = sorted(t.start_ms + (t.heard_ms or 0) for t in script.turns if t.status != "completed")
    assert sorted(interrupted) == cuts


def test_elevenlabs_flow() -> None:
    _, frames = _session("elevenlabs")
    client = [f.payload for f in frames if f.direction == "client"]
    assert any(set(p) == {"user_audio_chunk"} for p in client)
    assert any(p.get("type") == "client_tool_result" for p in client)
    server = [f.payload for f in frames if f.direction == "server"]
    assert server[0]["type"] == "conversation_initiation_metadata"
    ids = [p[k]["event_id"] for p in server for k in p
           if (k.endswith("_event") or k == "client_tool_call")
           and isinstance(p[k], dict) and "event_id" in p[k] and p["type"] != "interruption"]
    assert ids == list(range(1, len(ids) + 1))
    for i, p in enumerate(server):
        if p["type"] == "interruption":
            audio_before = [q["audio_event"]["event_id"] for q in server[:i]
                            if q["type"] == "audio"]
            assert p["interruption_event"]["event_id"] == audio_before[-1]
    assert {"interruption", "agent_response_correction", "ping", "audio"} <= {
        p["type"] for p in server}


def test_twilio_bridge() -> None:
    script, frames = _session("twilio")
    twilio = [f for f in frames if f.provider is None and f.direction != "system"]
    model = [f for f in frames if f.provider is Provider.OPENAI_REALTIME]
    assert twilio and model
    inbound = [f.payload["media"] for f in twilio if f.payload.get("event") == "media"
               and f.direction == "server"]
    assert {len(base64.b64decode(m["payload"])) for m in inbound} == {160}
    assert all(m["track"] == "inbound" for m in inbound)
    assert sum(1 for f in twilio if f.payload.get("event") == "clear") == 2
    sent = {f.payload["mark"]["name"] for f in twilio
            if f.payload.get("event") == "mark" and f.direction == "client"}
    echoed = {f.payload["mark"]["name"] for f in twilio
              if f.payload.get("event") == "mark" and f.direction == "server"}
    assert sent == echoed
    update = next(f.payload for f in model if f.payload.get("type") == "session.update")
    assert update["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    events = [f.payload.get("event") for f in twilio]
    assert events[0] == "connected" and events[1] == "start" and events[-1] == "stop"
    assert "dtmf" in events
    # marks echoed before each clear account for the heard audio, to within one 100 ms delta
    for turn in (t for t in script.turns if t.status != "completed"):
        cut = turn.start_ms + (turn.heard_ms or 0)
        played = [f for f in twilio if f.direction == "server" and f.payload.get("event") == "mark"
                  and f.payload["mark"]["name"].startswith(f"t{turn.index}-") and f.at_ms <= cut]
        assert (turn.heard_ms or 0) - 100 < len(played) * 100 <= (turn.heard_ms or 0)


def test_custom_frames_match_the_vocabulary() -> None:
    _, frames = _session("custom")
    types = set()
    for f in frames:
        if f.direction == "system":
            continue
        types.add(parse_custom_event(f.payload).type)
    assert {"audio.input", "audio.output", "transcript.user.final", "transcript.agent.final",
            "playback.truncated", "playback.stopped", "tool.call", "tool.result"} <= types
    truncated = [f.payload["heard_ms"] for f in frames
                 if f.payload.get("type") == "playback.truncated"]
    assert 0 in truncated
