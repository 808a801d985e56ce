"""Which consumers hold a sealed session's purge back (services/ledger/buffer.py, pure part)."""

from __future__ import annotations

import pytest

from services.ledger.buffer import Floor, absent, blocking, filters_overlap, subject_matches


@pytest.mark.parametrize(("pattern", "subject", "expected"), [
    ("voice.>", "voice.t.s.audio", True),
    ("voice.*.*.system", "voice.t.s.system", True),
    ("voice.*.*.system", "voice.t.s.audio", False),
    ("voice.t.>", "voice.u.s.audio", False),
    ("voice.t.s.audio", "voice.t.s.audio", True),
    ("voice.t.s", "voice.t.s.audio", False),
    ("voice.t.s.audio.>", "voice.t.s.audio", False),
    (">", "voice.t.s.event", True),
])
def test_subject_matching(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


def test_only_consumers_that_see_the_session_and_are_behind_block() -> None:
    consumers = [
        Floor("sealer", ["voice.*.>"], 500),
        Floor("catalog", ["voice.>"], 90),  # behind, sees everything: blocks
        Floor("audio", ["voice.*.*.system"], 10),  # behind, sees the session's system subject
        Floor("other-tenant", ["voice.u.>"], 0),  # behind but never sees tenant t
        Floor("unfiltered", [], 100),  # sees everything, caught up
    ]
    assert blocking(consumers, "voice", "t", "s", 100) == ["catalog", "audio"]
    assert blocking(consumers, "voice", "t", "s", 10) == []
    assert filters_overlap([], "voice", "t", "s")
    assert not filters_overlap(["voice.t.other.>"], "voice", "t", "s")


def test_a_required_consumer_that_does_not_exist_yet_holds_every_purge_back() -> None:
    running = [Floor("sealer", ["voice.*.>"], 500), Floor("catalog", ["voice.>"], 500)]
    assert absent(["sealer", "catalog", "redaction"], running) == ["redaction"]
    assert absent(["sealer"], running) == []
    assert absent([], []) == []
