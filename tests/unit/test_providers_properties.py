"""Properties of every timeline: never throws; heard ≤ generated; monotone; bytes owned once."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Provider
from services.providers import Timeline, interpret
from tests.unit.providers_support import Session, env

# Junk the envelope contract lets through (issue 12 refuses NUL, lone surrogates, integers
# beyond BIGINT and infinities at decode, so interpreters never see those).
_text = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
json_leaf = st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(
    allow_nan=False, allow_infinity=False) | st.text(_text, max_size=12)
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(_text, max_size=8), inner, max_size=3), max_leaves=12)
KEYS = ["type", "event", "item_id", "audio", "delta", "media", "payload", "serverContent",
        "modelTurn", "parts", "inlineData", "data", "audio_event", "audio_base_64", "event_id",
        "interrupted", "audio_end_ms", "call_id", "turn_id", "heard_ms", "user_audio_chunk",
        "response", "session", "mark", "name", "realtimeInput", "toolCall", "interruption_event"]
TYPES = ["response.output_audio.delta", "conversation.item.truncate", "media", "mark", "clear",
         "audio", "interruption", "audio.output", "playback.truncated", "response.done",
         "session.update", "toolCall", "agent_response_correction"]
frame = st.dictionaries(st.sampled_from(KEYS), json_value | st.sampled_from(TYPES), max_size=5)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(Provider)), st.sampled_from(["client", "server"]),
                          frame, st.integers(0, 10**12)), max_size=12))
def test_junk_never_raises(items: list[tuple[Provider, str, dict[str, Any], int]]) -> None:
    envs = [env(i, p, d, f, ms / 1e6) for i, (p, d, f, ms) in enumerate(items)]
    tl = interpret(envs)
    assert {e.seq for e in tl.frame_errors} <= set(range(len(items)))
    assert not [e for e in tl.frame_errors if e.reason.startswith("internal_error")]
    check_invariants(tl)


def check_invariants(tl: Timeline) -> None:
    for track in ("caller", "agent"):
        chunks = tl.track(track)
        offset = 0
        for c in chunks:  # each byte belongs to exactly one chunk, in order, without holes
            assert c.byte_offset == offset
            offset += c.byte_length
            assert 0 <= c.heard_bytes <= c.byte_length
        heard = [c for c in chunks if c.heard_bytes]
        for a, b in itertools.pairwise(heard):  # what was heard never overlaps
            assert b.start_ms >= a.start_ms + a.heard_ms - 1e-6
    for t in tl.turns:
        assert t.start_ms <= t.end_ms
        if t.generated_ms is not None and t.heard_ms is not None:
            assert t.heard_ms <= t.generated_ms + 1e-6
    starts = [t.start_ms for t in tl.turns]
    assert starts == sorted(starts)


def pcm(ms: int, rate: int = 24000) -> str:
    return base64.b64encode(b"\x01\x00" * (rate * ms // 1000)).decode()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 8), st.integers(0, 400), st.booleans(),
                          st.integers(0, 2000)), min_size=1, max_size=6))
def test_openai_heard_never_exceeds_generated(turns: list[tuple[int, int, bool, int]]) -> None:
    """Random agent turns (chunks, gap, cut?, cut position): heard ≤ generated, tracks sound."""
    s = Session("openai-realtime")
    now = 0.0
    for i, (chunks, gap, cut, cut_ms) in enumerate(turns):
        now += gap
        for _ in range(chunks):
            s.add("server", {"type": "response.output_audio.delta", "item_id": f"i{i}",
                             "delta": pcm(100)}, now)
            now += 10
        s.add("client", {"type": "input_audio_buffer.append", "audio": pcm(40)}, now)
        if cut:
            s.add("client", {"type": "conversation.item.truncate", "item_id": f"i{i}",
                             "content_index": 0, "audio_end_ms": cut_ms}, now + 1)
    tl = interpret(s.envs)
    assert not tl.frame_errors
    check_invariants(tl)
    for i, (chunks, _, cut, cut_ms) in enumerate(turns):
        t = tl.turn(f"i{i}")
        assert t is not None and t.generated_ms == chunks * 100
        expected = min(cut_ms, chunks * 100) if cut else chunks * 100
        assert t.heard_ms is not None and abs(t.heard_ms - expected) < 0.05
