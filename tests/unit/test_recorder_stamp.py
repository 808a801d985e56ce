"""The recorder's fast path builds the same envelope and the same bytes as full validation, and
refuses exactly what ``Envelope(...)`` refuses (services/recorder/stamp.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import uuid_utils
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.envelope import (
    MAX_ENVELOPE_BYTES,
    Direction,
    Envelope,
    EnvelopeError,
    Provider,
    decode_envelope,
    encode_envelope,
)
from services.recorder.stamp import Stamper

WALL0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TYPE = "response.output_audio.delta"

# Strings with what the ledger refuses (NUL, lone surrogates) and what JSON must escape.
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=12) | st.sampled_from(
    ["", "a\x00b", "\ud800", "line\nbreak", 'quo"te', "back\\slash", "é", "\u2028"])
numbers = (st.integers(-(2**64), 2**64) | st.floats(allow_nan=True, allow_infinity=True)
           | st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, math.nan, -0.0]))
values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children,
                                                                      max_size=3),
    max_leaves=12)
payloads = st.dictionaries(texts, values, max_size=4) | st.dictionaries(
    st.integers(0, 3) | texts, values, max_size=2)


def full(seq: int, provider: Provider, direction: Direction, type_: str, mono: int,
         payload: Any, event_id: str, wall0: datetime = WALL0) -> tuple[Envelope, bytes]:
    env = Envelope(event_id=event_id, tenant_id="acme", session_id="call-1", seq=seq,
                   provider=provider, direction=direction, type=type_,
                   recorded_at=wall0 + timedelta(microseconds=mono // 1000), mono_ns=mono,
                   payload=payload)
    return env, encode_envelope(env)


def warmed(wall0: datetime = WALL0, *types: str) -> Stamper:
    """A session that has validated its first envelope and these types: the fast path is open."""
    stamper = Stamper("acme", "call-1", wall0)
    for type_ in (TYPE, *types):
        stamper.stamp(str(uuid_utils.uuid7()), 0, Provider.OPENAI_REALTIME, Direction.SERVER,
                      type_, 0, {"type": type_})
    return stamper


def outcome(call: Any, *args: Any) -> tuple[str, Any]:
    """("ok", result) or the name of the exception: the kind of failure is what is compared."""
    try:
        return "ok", call(*args)
    except Exception as exc:
        return type(exc).__name__, None


@given(payload=payloads, seq=st.integers(0, 2**63 + 1), mono=st.integers(0, 2**62),
       provider=st.sampled_from(list(Provider)), direction=st.sampled_from(list(Direction)),
       type_=st.sampled_from([TYPE, "media", "x y", "", "a" * 129, "é"]))
def test_the_fast_path_agrees_with_full_validation(payload: Any, seq: int, mono: int,
                                                     provider: Provider, direction: Direction,
                                                     type_: str) -> None:
    event_id = str(uuid_utils.uuid7())
    stamper = warmed(WALL0, "media")
    fast = outcome(stamper.stamp, event_id, seq, provider, direction, type_, mono, payload)
    slow = outcome(full, seq, provider, direction, type_, mono, payload, event_id)
    if slow[0] == "PydanticSerializationError":
        slow = ("EnvelopeError", None)  # the recorder names it (and gives the seq back)
    assert fast[0] == slow[0]
    if fast[0] == "ok":
        (env, data), (env2, data2) = fast[1], slow[1]
        assert env == env2 and data == data2
        assert decode_envelope(data) == env


@pytest.mark.parametrize("wall0", [
    datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=5))),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
])
def test_a_clock_not_in_utc_or_at_the_edge_is_validated_in_full(wall0: datetime) -> None:
    stamper = warmed(wall0) if wall0.year < 9999 else Stamper("acme", "call-1", wall0)
    for mono in (0, 10**9, 120 * 10**9):
        event_id = str(uuid_utils.uuid7())
        fast = outcome(stamper.stamp, event_id, 1, Provider.OPENAI_REALTIME, Direction.CLIENT,
                       TYPE, mono, {"type": TYPE})
        slow = outcome(full, 1, Provider.OPENAI_REALTIME, Direction.CLIENT, TYPE, mono,
                       {"type": TYPE}, event_id, wall0)
        assert fast[0] == slow[0]
        if fast[0] == "ok":
            assert fast[1] == slow[1]


def test_bad_session_ids_are_refused_on_every_frame() -> None:
    stamper = Stamper("acme", "../../etc/passwd", WALL0)
    for _ in range(2):
        with pytest.raises(ValidationError):
            stamper.stamp(str(uuid_utils.uuid7()), 0, Provider.OPENAI_REALTIME,
                          Direction.SERVER, TYPE, 0, {"type": TYPE})


def test_the_envelope_keeps_its_own_payload_and_size_is_bounded() -> None:
    stamper = warmed()
    frame = {"type": TYPE, "delta": "AAAA"}
    env, data = stamper.stamp(str(uuid_utils.uuid7()), 1, Provider.OPENAI_REALTIME,
                              Direction.SERVER, TYPE, 5, frame)
    frame["delta"] = "changed"
    assert env.payload["delta"] == "AAAA" and b"AAAA" in data
    with pytest.raises(EnvelopeError, match="limit"):
        stamper.stamp(str(uuid_utils.uuid7()), 2, Provider.OPENAI_REALTIME, Direction.SERVER,
                      TYPE, 6, {"type": TYPE, "delta": "A" * MAX_ENVELOPE_BYTES})
    with pytest.raises(EnvelopeError, match="JSON"):
        stamper.stamp(str(uuid_utils.uuid7()), 2, Provider.OPENAI_REALTIME, Direction.SERVER,
                      TYPE, 6, {"type": TYPE, "obj": object()})
