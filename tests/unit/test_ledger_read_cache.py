"""The process's shared reads (services/ledger/read_cache.py): a contiguous run of decoded
entries per tenant, served by position range, extended only where it ends, bounded in size and
age, and emptied of a session as soon as its key is found destroyed."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.envelope import Direction, Envelope, Provider
from services.ledger.read_cache import SharedReads
from services.ledger.reader import SealedEvent

T = "t1"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def ev(position: int, session: str = "s1", reason: str | None = None) -> SealedEvent:
    env = Envelope(event_id=f"00000000-0000-7000-8000-{position:012d}", tenant_id=T,
                   session_id=session, seq=position, provider=Provider.CUSTOM,
                   direction=Direction.SERVER, type="transcript.final",
                   recorded_at=AT, mono_ns=position, payload={})
    return SealedEvent(T, position, session, position, f"voice.{T}.{session}.event", env, None,
                       (), reason)


def positions(hit: tuple[list[SealedEvent], int] | None) -> tuple[list[int], int] | None:
    return None if hit is None else ([e.position for e in hit[0]], hit[1])


def test_a_range_read_once_is_served_from_memory_up_to_the_head() -> None:
    cache = SharedReads()
    assert cache.get(T, 0, 10, 100) is None
    cache.put(T, 0, 10, [ev(p) for p in range(10) if p != 4])  # 4: a reserved session's
    assert positions(cache.get(T, 0, 10, 100)) == ([0, 1, 2, 3, 5, 6, 7, 8, 9], 10)
    assert positions(cache.get(T, 3, 8, 100)) == ([3, 5, 6, 7], 8)
    # A head past the run: what it holds, up to where it ends (the caller reads the rest).
    assert positions(cache.get(T, 8, 20, 100)) == ([8, 9], 10)
    assert cache.get(T, 10, 20, 100) is None
    assert (cache.hits, cache.misses) == (15, 9)


def test_a_limit_cuts_at_the_first_entry_left_out() -> None:
    cache = SharedReads()
    cache.put(T, 0, 10, [ev(p) for p in range(10)])
    assert positions(cache.get(T, 2, 10, 3)) == ([2, 3, 4], 5)
    assert positions(cache.get(T, 7, 10, 3)) == ([7, 8, 9], 10)


def test_the_run_grows_only_where_it_ends() -> None:
    cache = SharedReads()
    cache.put(T, 5, 10, [ev(p) for p in range(5, 10)])
    cache.put(T, 0, 5, [ev(p) for p in range(5)])  # behind the run (a catch-up): left out
    assert cache.get(T, 0, 10, 100) is None
    cache.put(T, 8, 12, [ev(p) for p in range(8, 12)])  # overlapping its end: the new part
    assert positions(cache.get(T, 5, 20, 100)) == ([5, 6, 7, 8, 9, 10, 11], 12)
    cache.put(T, 20, 22, [ev(20), ev(21)])  # ahead of it (a gap): a new run
    assert cache.get(T, 5, 20, 100) is None
    assert positions(cache.get(T, 20, 30, 100)) == ([20, 21], 22)


def test_the_oldest_entries_go_past_the_window() -> None:
    cache = SharedReads(window=4)
    cache.put(T, 0, 3, [ev(p) for p in range(3)])
    cache.put(T, 3, 6, [ev(p) for p in range(3, 6)])
    assert len(cache) == 4
    assert cache.get(T, 1, 6, 100) is None
    assert positions(cache.get(T, 2, 6, 100)) == ([2, 3, 4, 5], 6)


def test_an_erased_session_is_forgotten_and_a_quiet_run_expires() -> None:
    cache = SharedReads(ttl_s=10.0)
    cache.put(T, 0, 4, [ev(0, "a"), ev(1, "b"), ev(2, "a"), ev(3, "b")])
    cache.forget(T, {"a"})
    assert positions(cache.get(T, 0, 4, 100)) == ([1, 3], 4)
    run = cache._runs[T]
    cache.expire(run.used + 9.0)
    assert len(cache) == 2
    cache.expire(run.used + 11.0)
    assert len(cache) == 0 and cache.get(T, 0, 4, 100) is None


def test_an_unparsed_read_gets_the_alternate_of_a_frame_that_only_fails_to_parse() -> None:
    cache = SharedReads()
    bad, alt = ev(1, reason="unreadable: payload is not JSON"), ev(1)
    cache.put(T, 0, 3, [ev(0), bad, ev(2)], {1: alt})
    parsed = cache.get(T, 0, 3, 100)
    unparsed = cache.get(T, 0, 3, 100, unparsed=True)
    assert parsed is not None and unparsed is not None
    assert parsed[0][1] is bad and unparsed[0][1] is alt
    cache.forget(T, {"s1"})
    assert len(cache) == 0 and not cache._runs[T].unparsed


def test_every_run_together_stays_within_the_global_budget() -> None:
    cache = SharedReads(window=100, max_entries=250)
    for tenant in ["a", "b", "c"]:
        cache.put(tenant, 0, 100, [ev(p) for p in range(100)])
        assert len(cache) <= 250
    # The third run pushed the total over 250: the least recently extended run ("a") went.
    assert len(cache) == 200
    assert cache.get("a", 0, 100, 100) is None
    assert positions(cache.get("b", 0, 100, 1)) == ([0], 1)
    # One tenant alone above the budget keeps its newest entries.
    small = SharedReads(window=1_000, max_entries=50)
    small.put(T, 0, 80, [ev(p) for p in range(80)])
    assert len(small) == 50
    assert small.get(T, 10, 80, 100) is None
    assert positions(small.get(T, 30, 80, 100)) == (list(range(30, 80)), 80)
    # Forgetting a session and expiring runs keep the count exact.
    small.forget(T, ["s1"])
    assert len(small) == 0
    cache.expire(now=float("inf"))
    assert len(cache) == 0
