"""The transcript projection, pure: sealed frames read without audio rebuild the same timeline; heard
text, paused spans and alignments follow the rules of ``services/transcripts/projection.py``."""

from __future__ import annotations

import base64
import random

import pytest

from schemas.envelope import Envelope
from services.providers import interpret
from services.providers.timeline import AudioChunk, AudioFormat
from services.simulator.providers import PROFILES
from services.simulator.run import plan
from services.simulator.script import Script, build_script
from services.transcripts.consumer import rebuild
from services.transcripts.projection import alignment_heard, project
from tests.unit.providers_support import Session, env
from tests.unit.sealed_support import read_back


def simulated(name: str, seed: str) -> tuple[Script, list[Envelope]]:
    profile = PROFILES[name]
    script = build_script(seed)
    envs: list[Envelope] = []
    for frame in plan(name, script):  # provider frames and system events, in publish order
        envs.append(env(len(envs), frame.provider or profile.provider, frame.direction,
                        frame.payload, frame.at_ms, frame.type_))
    return script, envs


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_sealed_frames_read_without_audio_rebuild_the_same_timeline(name: str) -> None:
    _, envs = simulated(name, "tx-1")
    read = read_back(envs, "lengths")
    assert any(e.audio_lengths for e in read) and all(e.audio is None for e in read)
    assert interpret([e.envelope for e in read]) == interpret(envs)


def test_rebuild_ignores_arrival_order_and_duplicates() -> None:
    _, envs = simulated("openai", "tx-2")
    shuffled = envs + envs[: len(envs) // 3]
    random.Random(4).shuffle(shuffled)
    assert rebuild(shuffled) == rebuild(envs)


def test_invalid_audio_stays_a_frame_error() -> None:
    s = Session("openai-realtime")
    s.add("client", {"type": "input_audio_buffer.append", "audio": "@@not base64@@"}, 0)
    read = read_back(s.envs)  # sealed as received (and dead-lettered by the sealer)
    tl = interpret([e.envelope for e in read])
    assert [e.reason for e in tl.frame_errors] == ["invalid_base64:audio"]


def test_subject_identifiers_are_not_read() -> None:
    started = env(0, "openai-realtime", "system", {
        "provider": "openai-realtime", "agent": "billing",
        "subject": {"phone_e164": "+14155550100"}}, 0, "session.started")
    payload = read_back([started])[0].envelope.payload
    assert "subject" not in payload and "4155550100" not in str(payload)


def _words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_turns_follow_the_script_and_the_paused_span_is_withheld(name: str) -> None:
    script, envs = simulated(name, "tx-3")
    t = project(interpret(envs), envs)
    paused = [m.at_ms for m in script.system_events if m.type == "recording.paused"]
    resumed = [m.at_ms for m in script.system_events if m.type == "recording.resumed"]
    assert len(t.turns) == len(script.turns)
    for got, want in zip(t.turns, script.turns, strict=True):
        assert got.speaker == want.speaker
        inside = paused[0] <= want.start_ms < resumed[0]
        if inside:
            assert got.withheld == "recording.paused" and got.text is None
            assert got.heard_text is None
            continue
        assert got.withheld is None and got.text == want.text
        if want.speaker == "caller" or want.status == "completed":
            assert got.heard_text == want.text and not got.approximate
            continue
        assert got.status in ("truncated", "interrupted")
        if name not in ("elevenlabs", "custom"):
            assert got.status == want.status
        assert want.heard_ms is not None and got.heard_text is not None
        words = _words(want.text)
        expected = round(len(words) * want.heard_ms / want.duration_ms)
        heard = _words(got.heard_text)
        assert heard == words[: len(heard)]
        assert abs(len(heard) - expected) <= 1, (got.turn_id, len(heard), expected)
    assert t.summary.interrupted and t.summary.has_tool_call
    assert [c.call_id for c in t.tool_calls] == [c.call_id for c in script.tool_calls]


def test_alignment_gives_the_exact_heard_characters() -> None:
    fmt = AudioFormat("pcm16", 16000, 1)
    chunk = AudioChunk("agent", fmt, 0, 32000, 0.0, 1000.0, 7, "a1", heard_bytes=16000)  # 500 ms
    text = "Hello there friend"
    starts = [i * 50 for i in range(len(text))]  # 50 ms per char: 10 chars in 500 ms
    aligned = {7: {"chars": list(text), "char_start_times_ms": starts,
                   "char_durations_ms": [50] * len(text)}}
    assert alignment_heard([chunk], aligned) == "Hello ther"
    assert alignment_heard([chunk], {}) is None


def test_elevenlabs_alignment_beats_the_proportional_estimate() -> None:
    s = Session("elevenlabs")
    audio = base64.b64encode(bytes(32000)).decode()  # 1 s of pcm16 at 16 kHz
    text = "one two three four five six seven eight"
    starts = [0] * 8 + [800] * (len(text) - 8)  # "one two " in the first 800 ms, the rest late
    s.add("server", {"type": "agent_response", "agent_response_event": {
        "agent_response": text, "event_id": 1}}, 0)
    s.add("server", {"type": "audio", "audio_event": {
        "audio_base_64": audio, "event_id": 1, "alignment": {
            "chars": list(text), "char_start_times_ms": starts,
            "char_durations_ms": [10] * len(text)}}}, 0)
    s.add("server", {"type": "interruption", "interruption_event": {"event_id": 1}}, 500)
    tl = interpret(s.envs)
    (turn,) = project(tl, s.envs).turns
    assert turn.status in ("truncated", "interrupted")
    assert (turn.heard_text, turn.approximate) == ("one two", False)
