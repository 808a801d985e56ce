"""The console's pure parts: view model, waveform peaks, CSRF values, one-use tickets."""

from __future__ import annotations

import numpy as np
import pytest
from starlette.requests import Request

from services.api.console import web
from services.api.console.tickets import Tickets
from services.api.console.views import Piece, pii_pieces, session_view, snippet_pieces
from services.api.console.waveform import MAX_BINS, peaks
from services.audio.codec import wav_header


def test_snippet_marks_matches_and_typed_pii() -> None:
    got = snippet_pieces("call [[Acme]] about <PHONE_NUMBER> and [[<PERSON_2>]]")
    assert got == [Piece("call "), Piece("Acme", "match"), Piece(" about "),
                   Piece("<PHONE_NUMBER>", "pii", "phone number"), Piece(" and "),
                   Piece("<PERSON_2>", "pii", "person 2")]
    assert snippet_pieces(None) == []
    # Text that only looks like markup stays text (the template escapes it).
    assert pii_pieces("a <script> b") == [Piece("a <script> b")]


def _turn(**kw: object) -> dict[str, object]:
    base = {"turn_id": "t", "speaker": "agent", "status": "completed", "start_ms": 1000,
            "end_ms": 2000, "text": "Hello there", "withheld": None}
    return {**base, **kw}


def test_original_agent_turn_splits_heard_and_unheard() -> None:
    turn = _turn(status="truncated", text="Your balance is due on the fifth of May.",
                 heard_text="Your balance is due", heard_ms=1860, generated_ms=4000,
                 approximate=True, language="en")
    v = session_view({"view": "original", "duration_ms": 9000, "audio": {},
                      "completeness": {"ended": True},
                      "original": {"turns": [turn], "tool_calls": []}})
    [t] = v.turns
    assert "".join(p.text for p in t.heard) == "Your balance is due"
    assert t.unheard == " on the fifth of May."
    assert t.cut_at_ms == 1000 + 1860 and t.approximate and not t.unheard_hidden


def test_redacted_cut_turn_hides_the_remainder_and_marks_the_cut() -> None:
    v = session_view({"view": "redacted", "duration_ms": 9000, "audio": {},
                      "completeness": {"ended": True},
                      "redacted": {"turns": [_turn(status="interrupted", end_ms=1500,
                                                   text="I can <PHONE_NUMBER>")],
                                   "tool_calls": []}})
    [t] = v.turns
    assert t.unheard is None and t.unheard_hidden and t.cut_at_ms == 1500
    assert [p.kind for p in t.heard] == ["text", "pii"]


def test_timeline_orders_turns_and_tools_and_reports_gaps() -> None:
    tool = {"call_id": "c", "name": "lookup", "started_ms": 1500, "ended_ms": 1600,
            "is_error": False, "cancelled": False}
    v = session_view({"view": "redacted", "duration_ms": None,
                      "audio": {"heard": {"gaps": [{"track": "agent", "start_ms": 1.0,
                                                    "end_ms": 2.0, "reason": "no_audio"}]}},
                      "completeness": {"missing": 3, "gaps": [[4, 6]], "ended": False,
                                       "duplicates": 0, "timed_out": True, "erased": False},
                      "redacted": {"turns": [_turn(turn_id="b", start_ms=2000, end_ms=3000),
                                             _turn(turn_id="a", withheld="recording.paused")],
                                   "tool_calls": [tool]}})
    assert [getattr(i, "turn_id", "tool") for i in v.items] == ["a", "tool", "b"]
    assert v.withheld == [{"start_ms": 1000, "end_ms": 2000, "reason": "recording.paused"}]
    assert v.duration_ms == 3000
    joined = " | ".join(v.warnings)
    assert "3 event(s) missing" in joined and "4-6" in joined and "timed out" in joined
    assert "1 gap(s) in the audio" in joined


def test_pending_redaction_and_metadata_views() -> None:
    assert session_view({"view": "redacted", "redacted": None}).redaction_pending
    meta = session_view({"view": "metadata"})
    assert meta.turns == [] and not meta.redaction_pending


def _wav(left: np.ndarray, right: np.ndarray, rate: int = 16000) -> bytes:
    frames = np.stack([left, right], axis=1).astype("<i2")
    return wav_header(rate, 2, frames.nbytes) + frames.tobytes()


def test_peaks_follow_each_lane() -> None:
    rate = 16000
    silence, loud = np.zeros(rate, np.int16), np.full(rate, 16384, np.int16)
    wave = peaks(_wav(np.concatenate([loud, silence]), np.concatenate([silence, loud])))
    assert wave.duration_ms == 2000 and len(wave.caller) == len(wave.agent) == 40
    half = len(wave.caller) // 2
    assert set(wave.caller[:half]) == {50} and set(wave.caller[half:]) == {0}
    assert set(wave.agent[:half]) == {0} and set(wave.agent[half:]) == {50}
    long = peaks(_wav(np.zeros(rate * 600, np.int16), np.zeros(rate * 600, np.int16)))
    assert len(long.caller) == MAX_BINS
    with pytest.raises(ValueError):
        peaks(b"not a wav file at all, not even close to forty-four bytes long")


def _request(headers: dict[str, str]) -> Request:
    return Request({"type": "http", "method": "POST", "scheme": "http", "path": "/console/x",
                    "server": ("127.0.0.1", 8470), "query_string": b"",
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]})


def test_csrf_is_bound_to_the_token_and_the_origin() -> None:
    a, b = web.csrf_for("vxl_a"), web.csrf_for("vxl_b")
    assert a != b and web.csrf_for("vxl_a") == a and "vxl_a" not in a
    same = _request({"host": "127.0.0.1:8470", "origin": "http://127.0.0.1:8470"})
    web.check_csrf(same, a, a)
    for supplied in (None, "", b):
        with pytest.raises(web.CsrfError):
            web.check_csrf(same, a, supplied)
    for headers in ({"origin": "https://evil.example"}, {"origin": "null"},
                    {"sec-fetch-site": "cross-site"}):
        with pytest.raises(web.CsrfError):
            web.check_csrf(_request({"host": "127.0.0.1:8470", **headers}), a, a)


def test_tickets_are_one_use_per_token_bounded_and_expire() -> None:
    t = Tickets(ttl_s=60, max_tickets=2, max_bytes=10)
    first = t.put("tok1", "s", b"12345")
    assert t.take(first, "tok2") is None  # another token cannot use it
    held = t.take(first, "tok1")
    assert held is not None and held.body == b"12345"
    assert t.take(first, "tok1") is None  # used once
    a, _b, c = (t.put("tok1", "s", b"1234") for _ in range(3))
    assert t.take(a, "tok1") is None and t.take(c, "tok1") is not None  # oldest went first
    expired = Tickets(ttl_s=0)
    assert expired.take(expired.put("tok1", "s", b"x"), "tok1") is None


def test_search_filters_pass_held_and_erased_to_the_api() -> None:
    from services.api.console.search_routes import Filters

    asked = Filters(q="refund", held="yes", erased="no").api()
    assert (asked["held"], asked["erased"]) == (True, False)
    assert Filters(held="maybe").api()["held"] is None  # anything else is no filter
