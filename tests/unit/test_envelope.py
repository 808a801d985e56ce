"""The envelope codec: round trip, strictness, limits, identifiers that cannot carry paths or SQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import uuid_utils
from hypothesis import given
from hypothesis import strategies as st

from schemas.envelope import (
    MAX_ENVELOPE_BYTES,
    Direction,
    Envelope,
    EnvelopeError,
    Provider,
    decode_envelope,
    encode_envelope,
    subject_for,
)


def make(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "event_id": str(uuid_utils.uuid7()), "tenant_id": "acme", "session_id": "call-1",
        "seq": 0, "provider": Provider.OPENAI_REALTIME, "direction": Direction.SERVER,
        "type": "response.output_audio.delta", "recorded_at": datetime.now(UTC), "mono_ns": 1,
        "payload": {"type": "response.output_audio.delta", "delta": "AAAA"},
    }
    fields.update(overrides)
    return Envelope(**fields)  # type: ignore[arg-type]


def raw(env: Envelope) -> dict[str, object]:
    return dict(json.loads(encode_envelope(env)))


def test_round_trip_keeps_every_field() -> None:
    env = make()
    assert decode_envelope(encode_envelope(env)) == env


def test_unknown_fields_are_refused() -> None:
    data = raw(make())
    data["extra"] = 1
    with pytest.raises(EnvelopeError, match="extra"):
        decode_envelope(json.dumps(data).encode())


@pytest.mark.parametrize("field,value", [
    ("session_id", "../../etc/passwd"),
    ("session_id", "x'; DROP TABLE sessions;--"),
    ("session_id", "a.b"),
    ("session_id", "a*"),
    ("tenant_id", "ACME"),
    ("tenant_id", "a" * 64),
    ("seq", -1),
    ("seq", "1"),
    ("provider", "skype"),
    ("direction", "sideways"),
    ("schema_version", 2),
    ("event_id", "not-a-uuid"),
    ("recorded_at", "yesterday"),
    ("recorded_at", "2026-01-01T00:00:00"),
    ("payload", [1, 2]),
])
def test_invalid_values_are_refused_without_echoing_them(field: str, value: object) -> None:
    data = raw(make())
    data[field] = value
    with pytest.raises(EnvelopeError) as info:
        decode_envelope(json.dumps(data).encode())
    assert field in str(info.value)
    if isinstance(value, str) and len(value) > 3:
        assert value not in str(info.value)


@pytest.mark.parametrize("blob,reason", [
    (b"\x00\x01garbage", "NUL"),
    (b"{not json", "JSON"),
    (b'{"a": 1', "JSON"),
    (b"[1,2,3]", "object"),
    (b"\xff\xfe", "JSON"),
])
def test_garbage_is_refused_with_a_reason(blob: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason):
        decode_envelope(blob)


def test_size_limits_both_ways() -> None:
    big = make(payload={"delta": "A" * MAX_ENVELOPE_BYTES})
    with pytest.raises(EnvelopeError, match="limit"):
        encode_envelope(big)
    with pytest.raises(EnvelopeError, match="limit"):
        decode_envelope(b" " * (MAX_ENVELOPE_BYTES + 1))


def test_deep_nesting_is_refused() -> None:
    data = raw(make())
    nested: object = 1
    for _ in range(200):
        nested = {"a": nested}
    data["payload"] = {"deep": nested}
    with pytest.raises(EnvelopeError, match="nested"):
        decode_envelope(json.dumps(data).encode())


def test_envelope_is_frozen() -> None:
    env = make()
    with pytest.raises(Exception, match="frozen"):
        env.seq = 5  # type: ignore[misc]


@pytest.mark.parametrize("direction,type_,payload,kind", [
    (Direction.SERVER, "response.output_audio.delta", {}, "audio"),
    (Direction.CLIENT, "input_audio_buffer.append", {}, "audio"),
    (Direction.SERVER, "media", {}, "audio"),
    (Direction.SERVER, "response.done", {}, "event"),
    (Direction.SYSTEM, "session.started", {}, "system"),
    (Direction.SERVER, "serverContent",
     {"serverContent": {"modelTurn": {"parts": [{"inlineData": {"data": "AA"}}]}}}, "audio"),
    (Direction.SERVER, "serverContent", {"serverContent": {"turnComplete": True}}, "event"),
])
def test_subject_kind_lets_consumers_skip_audio(direction: Direction, type_: str,
                                                payload: dict[str, object], kind: str) -> None:
    env = make(direction=direction, type=type_, payload=payload)
    assert subject_for(env) == f"voice.acme.call-1.{kind}"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children,
                                                                      max_size=4),
    max_leaves=20,
)


@given(seq=st.integers(0, 2**40), mono=st.integers(0, 2**62),
       session=st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True),
       payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_round_trip_property(seq: int, mono: int, session: str, payload: dict[str, object]) -> None:
    env = make(seq=seq, mono_ns=mono, session_id=session, payload=payload)
    assert decode_envelope(encode_envelope(env)) == env


def test_frame_type_is_ascii_only() -> None:
    from services.recorder.frames import frame_type

    assert frame_type(Provider.OPENAI_REALTIME, {"type": "ª"}) == "unknown"
    assert frame_type(Provider.OPENAI_REALTIME, {"type": "résponse.done"}) == "rsponse.done"
    assert frame_type(Provider.GEMINI_LIVE, {"usageMetadata": {}, "serverContent": {}}) == "serverContent"
    assert frame_type(Provider.ELEVENLABS, {"user_audio_chunk": "AA=="}) == "user_audio_chunk"
    assert frame_type(Provider.TWILIO_MEDIA, {"event": "media"}) == "media"
