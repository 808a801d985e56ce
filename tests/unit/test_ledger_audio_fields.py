"""Audio fields of every provider are found, decoded exactly and replaced by references."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from services.ledger.audio_fields import AudioFieldError, find_audio, replace_fields

A = b"\x01\x02\x03\xff" * 10
B = b"\x10\x20" * 7
a64, b64 = base64.b64encode(A).decode(), base64.b64encode(B).decode()

CASES: list[tuple[str, str, dict[str, Any], list[tuple[tuple[Any, ...], bytes]]]] = [
    ("openai append", "input_audio_buffer.append",
     {"type": "input_audio_buffer.append", "audio": a64}, [(("audio",), A)]),
    ("openai GA delta", "response.output_audio.delta",
     {"type": "response.output_audio.delta", "delta": a64, "item_id": "i"}, [(("delta",), A)]),
    ("openai beta delta", "response.audio.delta",
     {"type": "response.audio.delta", "delta": a64}, [(("delta",), A)]),
    ("twilio media", "media",
     {"event": "media", "media": {"track": "inbound", "payload": a64}},
     [(("media", "payload"), A)]),
    ("gemini realtimeInput.audio", "realtimeInput",
     {"realtimeInput": {"audio": {"data": a64, "mimeType": "audio/pcm;rate=16000"}}},
     [(("realtimeInput", "audio", "data"), A)]),
    ("gemini mediaChunks", "realtimeInput",
     {"realtimeInput": {"mediaChunks": [{"data": a64}, {"data": b64}]}},
     [(("realtimeInput", "mediaChunks", 0, "data"), A),
      (("realtimeInput", "mediaChunks", 1, "data"), B)]),
    ("gemini modelTurn parts", "serverContent",
     {"serverContent": {"modelTurn": {"parts": [
         {"text": "hi"}, {"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": a64}}]}}},
     [(("serverContent", "modelTurn", "parts", 1, "inlineData", "data"), A)]),
    ("elevenlabs user chunk", "user_audio_chunk", {"user_audio_chunk": a64},
     [(("user_audio_chunk",), A)]),
    ("elevenlabs audio", "audio",
     {"type": "audio", "audio_event": {"audio_base_64": a64, "event_id": 3}},
     [(("audio_event", "audio_base_64"), A)]),
    ("custom input", "audio.input", {"type": "audio.input", "audio": a64, "codec": "pcm16"},
     [(("audio",), A)]),
    ("custom output", "audio.output", {"type": "audio.output", "audio": b64}, [(("audio",), B)]),
    ("no audio", "response.done", {"type": "response.done", "audio": a64}, []),
    ("missing padding tolerated", "audio.input", {"audio": a64.rstrip("=") or a64},
     [(("audio",), A)]),
]


@pytest.mark.parametrize(("name", "type_", "payload", "want"), CASES, ids=[c[0] for c in CASES])
def test_find_audio(name: str, type_: str, payload: dict[str, Any],
                    want: list[tuple[tuple[Any, ...], bytes]]) -> None:
    got = [(f.path, f.data) for f in find_audio(type_, payload)]
    assert got == want


@pytest.mark.parametrize("bad", ["@@@", "abcde", 42])
def test_invalid_base64_names_the_field_not_the_value(bad: object) -> None:
    with pytest.raises(AudioFieldError) as exc:
        find_audio("media", {"event": "media", "media": {"payload": bad}})
    assert "media.payload" in str(exc.value)
    assert str(bad) not in str(exc.value)


def test_replace_fields_keeps_the_original_frame() -> None:
    frame = {"realtimeInput": {"mediaChunks": [{"data": a64}]}}
    out = replace_fields(frame, {("realtimeInput", "mediaChunks", 0, "data"): {"$audio": {}}})
    assert out == {"realtimeInput": {"mediaChunks": [{"data": {"$audio": {}}}]}}
    assert frame["realtimeInput"]["mediaChunks"][0]["data"] == a64


def test_replace_fields_copies_only_the_paths_and_keeps_the_original() -> None:
    frame = {"realtimeInput": {"mediaChunks": [{"data": a64}, {"data": b64}], "x": {"y": 1}},
             "usage": [1, 2]}
    out = replace_fields(frame, {("realtimeInput", "mediaChunks", 0, "data"): "r0",
                                 ("realtimeInput", "mediaChunks", 1, "data"): "r1"})
    assert out == {"realtimeInput": {"mediaChunks": [{"data": "r0"}, {"data": "r1"}],
                                     "x": {"y": 1}}, "usage": [1, 2]}
    assert frame["realtimeInput"]["mediaChunks"] == [{"data": a64}, {"data": b64}]


# The exact set the former check (pattern [A-Za-z0-9+/]*={0,2}, then a strict decode) accepted.
@pytest.mark.parametrize(("text", "want"), [
    ("QUJD", b"ABC"), ("QUI", b"AB"), ("QUI=", b"AB"), ("QQ", b"A"), ("QQ==", b"A"),
    ("QQ=", b"A"), (" QUJD\n", b"ABC"), ("", b""),
    ("QUJD===", None), ("QUJD====", None), ("QQ===", None), ("Q", None), ("QU=JD", None),
    ("=QUJD", None), ("QUJD\nQUJD", None), ("QU JD", None), ("QUJé", None), ("QU-_", None),
    ("QUJD\x00", None),
])
def test_base64_accepts_exactly_what_the_pattern_did(text: str, want: bytes | None) -> None:
    path = ("audio",)
    if want is None:
        with pytest.raises(AudioFieldError):
            find_audio("audio.input", {"audio": text})
    else:
        assert [(f.path, f.data) for f in find_audio("audio.input", {"audio": text})] == \
            [(path, want)]
