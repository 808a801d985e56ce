"""One module answers the per-frame questions for every provider, and one incremental
interpreter serves every projection with the same reasons."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from schemas.envelope import AUDIO_TYPES, Direction, Provider, kind_of
from services.audio.render import Event, SessionRenderer
from services.ledger import audio_fields
from services.providers import Interpreter, frames, interpret
from services.providers.formats import PCM16K, PCM24K, ULAW8K
from services.recorder import frames as recorder_frames
from tests.unit.providers_support import env

A = base64.b64encode(b"\x01\x02" * 480).decode()  # 960 bytes

CASES: list[tuple[Provider, dict[str, Any], str, list[tuple[tuple[Any, ...], int | None]]]] = [
    (Provider.OPENAI_REALTIME, {"type": "input_audio_buffer.append", "audio": A},
     "input_audio_buffer.append", [(("audio",), 960)]),
    (Provider.OPENAI_REALTIME, {"type": "response.output_audio.delta", "delta": A, "item_id": "i"},
     "response.output_audio.delta", [(("delta",), 960)]),
    (Provider.OPENAI_REALTIME_BETA, {"type": "response.audio.delta", "delta": "!!"},
     "response.audio.delta", [(("delta",), None)]),
    (Provider.TWILIO_MEDIA, {"event": "media", "media": {"track": "inbound", "payload": A}},
     "media", [(("media", "payload"), 960)]),
    (Provider.GEMINI_LIVE, {"realtimeInput": {"audio": {"data": A, "mimeType": "audio/pcm"}}},
     "realtimeInput", [(("realtimeInput", "audio", "data"), 960)]),
    (Provider.GEMINI_LIVE, {"serverContent": {"modelTurn": {"parts": [{"text": "hi"}]}}},
     "serverContent", []),
    (Provider.ELEVENLABS, {"user_audio_chunk": A}, "user_audio_chunk",
     [(("user_audio_chunk",), 960)]),
    (Provider.ELEVENLABS, {"type": "audio", "audio_event": {"audio_base_64": A, "event_id": 1}},
     "audio", [(("audio_event", "audio_base_64"), 960)]),
    (Provider.CUSTOM, {"type": "audio.output", "audio": A}, "audio.output", [(("audio",), 960)]),
    (Provider.OPENAI_REALTIME, {"type": "response.done", "audio": A}, "response.done", []),
]


@pytest.mark.parametrize(("provider", "frame", "type_", "lengths"), CASES)
def test_one_module_names_type_audio_fields_and_lengths(
        provider: Provider, frame: dict[str, Any], type_: str,
        lengths: list[tuple[tuple[Any, ...], int | None]]) -> None:
    assert frames.frame_type(provider, frame) == type_
    assert frames.audio_lengths(type_, frame) == lengths
    if lengths and lengths[0][1] is not None:
        assert [len(f.data) for f in frames.find_audio(type_, frame)] == [n for _, n in lengths]
        assert frames.kind_of(Direction.CLIENT, type_, frame) == "audio"


def test_old_import_paths_are_the_providers_module() -> None:
    assert audio_fields.find_audio is frames.find_audio
    assert audio_fields.candidate_paths is frames.candidate_paths
    assert recorder_frames.frame_type is frames.frame_type
    assert frames.AUDIO_TYPES is AUDIO_TYPES and frames.kind_of is kind_of


def test_every_audio_type_has_its_fields_known() -> None:
    for type_ in AUDIO_TYPES:
        assert type_ in frames._PATHS, type_


@pytest.mark.parametrize(("fmt", "nbytes", "ms"), [(PCM24K, 960, 20.0), (PCM16K, 640, 20.0),
                                                   (ULAW8K, 160, 20.0)])
def test_duration(fmt: Any, nbytes: int, ms: float) -> None:
    assert frames.duration_ms(nbytes, fmt) == pytest.approx(ms)


BAD_SESSIONS: list[tuple[str, list[tuple[str, dict[str, Any], str | None]]]] = [
    ("bad base64", [("server", {"type": "response.audio.delta", "item_id": "a", "delta": "!!"},
                     None)]),
    ("bad system event", [("system", {"scope": "nope"}, "consent.granted")]),
    ("missing item id", [("server", {"type": "conversation.item.truncated",
                                     "audio_end_ms": 5}, None)]),
]


@pytest.mark.parametrize(("name", "frames_"), BAD_SESSIONS)
def test_a_bad_frame_gets_the_same_reason_live_and_whole(
        name: str, frames_: list[tuple[str, dict[str, Any], str | None]]) -> None:
    envs = [env(i, "openai-realtime", d, f, ms=10.0 * i, type_=t)
            for i, (d, f, t) in enumerate(frames_)]
    live = Interpreter()
    errors = [live.feed(e) for e in envs]
    whole = interpret(envs).frame_errors
    assert whole and tuple(e for e in errors if e is not None) == whole
    assert live.timeline().frame_errors == whole
    recording = SessionRenderer(rate=24000)  # the audio projection feeds the same interpreter
    for e in envs:
        recording.feed(Event(e.seq, e.mono_ns, e.provider, e.direction, e.type, e.payload), [])
    assert tuple(recording.builder.frame_errors) == whole


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 160, 959, 960, 961, 3200])
def test_a_length_stand_in_measures_as_its_base64_does(n: int) -> None:
    # The readers put stand-ins in sealed audio fields (the interpreters read only lengths):
    # valid base64 of n bytes, measured without a scan, as the scan would measure it.
    stand_in = frames.length_stand_in(n)
    assert stand_in == base64.b64encode(bytes(n)).decode()
    assert frames.length_stand_in(n) is stand_in
    assert frames.audio_length(stand_in) == n
    assert frames.audio_length("".join(list(stand_in))) == n  # equal text, another object
    assert frames.audio_length(stand_in + "!") is None
