"""The catalog's per-session seq bookkeeping: each seq counts once, in any order (law 1, 2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.ledger.catalog_seqs import SeenSeqs


def test_in_order_then_redelivered() -> None:
    seen = SeenSeqs()
    assert seen.add_all(range(5)) == [0, 1, 2, 3, 4]
    assert seen.add_all([4, 0, 2]) == []
    assert (seen.max_seq, seen.holes, seen.missing()) == (4, [], 0)


def test_late_events_fill_holes() -> None:
    seen = SeenSeqs()
    assert seen.add_all([0, 5, 3]) == [0, 5, 3]
    assert seen.holes == [[1, 2], [4, 4]]
    assert seen.missing() == 3
    assert seen.add_all([4, 1, 1, 2, 5]) == [4, 1, 2]
    assert seen.holes == []


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=200))
def test_counts_each_distinct_seq_once(seqs: list[int]) -> None:
    seen = SeenSeqs()
    fresh = seen.add_all(seqs)
    assert sorted(fresh) == sorted(set(seqs))
    assert seen.max_seq == max(seqs, default=-1)
    assert seen.missing() == (seen.max_seq + 1) - len(set(seqs))
    # State survives a JSON round trip (it is stored as JSONB) and stays idempotent.
    again = SeenSeqs(seen.max_seq, [list(h) for h in seen.holes or []])
    assert again.add_all(seqs) == []
