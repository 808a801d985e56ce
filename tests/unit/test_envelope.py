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


# Storable text: Postgres refuses NUL and UTF-8 has no lone surrogates (both refused at decode).
texts = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children,
                                                                      max_size=4),
    max_leaves=20,
)


@given(seq=st.integers(0, 2**40), mono=st.integers(0, 2**62),
       session=st.from_regex(r"[A-Za-z0-9_-]{1,128}", fullmatch=True),
       payload=st.dictionaries(texts, json_values, max_size=5))
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


# -- issue 12: every stored value fits its column; reasons name the field, never the value ----

def _wire(**overrides: object) -> bytes:
    data = raw(make())
    data.update(overrides)
    return json.dumps(data).encode()


@pytest.mark.parametrize("overrides,reason", [
    ({"seq": 2**63}, "seq: less_than_equal"),
    ({"mono_ns": 2**64}, "mono_ns: less_than_equal"),
    ({"recorded_at": "0001-01-01T00:00:00+05:00"}, "recorded_at: datetime_out_of_range"),
    ({"recorded_at": "9999-12-31T23:59:59-05:00"}, "recorded_at: datetime_out_of_range"),
    ({"payload": {"type": "x", "text": "a\u0000b"}}, "payload: nul_character"),
    ({"payload": {"type": "x", "k\u0000": 1}}, "payload: nul_character"),
    ({"payload": {"type": "session.ended", "last_seq": 2**63}}, "payload: integer_out_of_range"),
    ({"payload": {"type": "x", "gap": [{"first_seq": -(2**63) - 1}]}},
     "payload: integer_out_of_range"),
])
def test_values_no_column_can_hold_are_refused_with_the_field(overrides: dict[str, object],
                                                               reason: str) -> None:
    blob = _wire(**overrides)
    with pytest.raises(EnvelopeError) as info:
        decode_envelope(blob)
    assert reason in str(info.value)
    assert "9223372036854775808" not in str(info.value) and "0001" not in str(info.value)


def test_escaped_nul_in_json_is_refused() -> None:
    blob = _wire(payload={"type": "x", "text": "PLACEHOLDER"}).replace(b"PLACEHOLDER",
                                                                       b"a\\u0000b")
    with pytest.raises(EnvelopeError, match="payload: nul_character"):
        decode_envelope(blob)
    with pytest.raises(Exception, match="nul_character"):
        make(payload={"type": "x", "t": "a\x00"})  # the SDK builds envelopes in Python


def test_ingest_limits_are_checked_against_the_clock() -> None:
    from datetime import timedelta

    from schemas.envelope import Limits

    now = datetime.now(UTC)
    limits = Limits(max_past_s=3600, max_future_s=60, max_call_s=7200)
    ok = encode_envelope(make(recorded_at=now, mono_ns=7200 * 10**9))
    assert decode_envelope(ok, limits, now).mono_ns == 7200 * 10**9
    cases = [
        (make(recorded_at=now + timedelta(seconds=61)), "recorded_at: too_far_in_future"),
        (make(recorded_at=now - timedelta(seconds=3601)), "recorded_at: too_far_in_past"),
        (make(mono_ns=7200 * 10**9 + 1), "mono_ns: exceeds_max_call_length"),
    ]
    for env, reason in cases:
        with pytest.raises(EnvelopeError, match=reason):
            decode_envelope(encode_envelope(env), limits, now)
        decode_envelope(encode_envelope(env))  # without limits: a sealed event stays readable
