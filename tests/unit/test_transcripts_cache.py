"""The builder's in-memory copy of a session's frames, pure: handed out only under the version it
was made under, kept in seq order, bounded; a rebuild from it equals one from the sealed frames."""

from __future__ import annotations

import random
import uuid
from functools import cache

import pytest

from schemas.envelope import Envelope
from services.providers import interpret
from services.providers.interpret import interpret_from
from services.simulator.providers import PROFILES
from services.transcripts.cache import Entry, FrameCache
from services.transcripts.consumer import (
    rebuild,
    rebuild_window,
    transcribe,
    transcribe_entry,
)
from tests.unit.test_transcripts_projection import simulated

K = ("t", "s")


@cache
def _session() -> list[Envelope]:
    return simulated("openai", "cache-1")[1]


def envs_of(seqs: list[int]) -> list[Envelope]:
    return [_session()[i] for i in seqs]


def entry(n: int, version: uuid.UUID | None = None) -> Entry:
    return Entry(version or uuid.uuid4(), envs_of(list(range(n))))


def test_an_entry_is_handed_out_only_under_its_version() -> None:
    cache = FrameCache()
    e = entry(3)
    cache.put(K, e, 0.0)
    assert cache.take(K, uuid.uuid4()) is None  # another writer (or a rollback) since
    assert cache.take(K, e.version) is None  # ...and the stale entry is gone for good
    cache.put(K, e, 0.0)
    assert cache.take(K, e.version) is e
    assert cache.take(K, e.version) is None  # taken: out of the cache until put back
    assert (len(cache), cache.frames) == (0, 0)


def test_an_unknown_version_is_never_trusted() -> None:
    cache = FrameCache()
    cache.put(K, Entry(None, envs_of([0, 1])), 0.0)
    assert cache.take(K, None) is None


def test_added_frames_keep_seq_order_and_take_the_new_version() -> None:
    e = Entry(uuid.uuid4(), envs_of([0, 1, 5]))
    v = uuid.uuid4()
    e.add(envs_of([7, 3, 6]), v)
    assert [x.seq for x in e.envs] == [0, 1, 3, 5, 6, 7]
    assert e.version == v
    e.add(envs_of([9, 8]), uuid.uuid4())
    assert [x.seq for x in e.envs] == [0, 1, 3, 5, 6, 7, 8, 9]


def test_an_entry_knows_its_seqs() -> None:
    e = Entry(uuid.uuid4(), envs_of([0, 2]))
    e.add(envs_of([1]), uuid.uuid4())
    assert e.seqs == {0, 1, 2}


def test_a_full_cache_drops_the_entry_put_back_not_another() -> None:
    cache = FrameCache(max_sessions=2, max_frames=10)
    a, b, c = entry(4), entry(4), entry(1)
    cache.put(("t", "a"), a, 0.0)
    cache.put(("t", "b"), b, 0.0)
    cache.put(("t", "c"), c, 0.0)  # a third session
    assert cache.take(("t", "c"), c.version) is None
    assert cache.take(("t", "a"), a.version) is a
    a.add(envs_of([10, 11, 12]), uuid.uuid4())
    cache.put(("t", "a"), a, 1.0)  # 7 + 4 frames > 10
    assert (len(cache), cache.frames) == (1, 4)
    assert cache.take(("t", "b"), b.version) is b


def test_idle_sessions_are_evicted_oldest_first() -> None:
    cache = FrameCache(idle_after=10.0)
    entries = {name: entry(2) for name in "abc"}
    for at, name in enumerate("abc"):
        cache.put(("t", name), entries[name], float(at))
    cache.put(("t", "a"), entries["a"], 5.0)  # touched again: now the newest
    cache.evict_idle(12.5)  # b (1.0) and c (2.0) idle past 10 s
    assert (len(cache), cache.frames) == (1, 2)
    assert cache.take(("t", "a"), entries["a"].version) is entries["a"]


@pytest.mark.parametrize(("every", "frames", "window"), [
    (1.0, 0, 1.0), (1.0, 4000, 1.0), (1.0, 6000, 1.5), (1.0, 360_000, 90.0), (5.0, 8000, 5.0),
    (0.0, 360_000, 0.0),  # no window at all
])
def test_the_window_widens_with_the_session(every: float, frames: int, window: float) -> None:
    assert rebuild_window(every, frames) == window


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_rebuilding_from_batches_equals_rebuilding_from_the_ledger(name: str) -> None:
    """The copy grows batch by batch, out of order, and is interpreted again and again (so the
    interpreters must not change what they read): every time it gives what the frames sealed so
    far give."""
    _, envs = simulated(name, "cache-2")
    order = list(range(len(envs)))
    late = order[len(order) // 2:]
    random.Random(7).shuffle(late)
    order[len(order) // 2:] = late  # the second half arrives out of order
    e = Entry(uuid.uuid4())
    sealed: list[Envelope] = []
    size = len(order) // 6 + 1  # six batches: a full rebuild after each is slow enough
    for i in range(0, len(order), size):
        batch = [envs[j] for j in order[i:i + size]]
        e.add(batch, uuid.uuid4())
        sealed += batch
        assert transcribe_entry(e) == rebuild(sealed)  # continues while in order
    assert transcribe(e.envs) == rebuild(envs)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_continuing_an_interpretation_equals_interpreting_everything_again(name: str) -> None:
    """A live call's rebuilds feed only the frames that arrived since the last one."""
    _, envs = simulated(name, "cache-3")
    envs = sorted(envs, key=lambda e: e.seq)
    rng = random.Random(11)
    progress, k, checks = None, 0, 0
    while k < len(envs):
        k = min(len(envs), k + rng.randint(1, 400))
        progress = interpret_from(progress, envs[:k])
        if rng.random() < 0.25 or k == len(envs):
            assert progress.builder.freeze() == interpret(envs[:k])
            checks += 1
    assert progress is not None and progress.fed == len(envs) and checks > 0


def test_an_interpretation_starts_over_when_a_late_frame_lands_inside_it() -> None:
    _, envs = simulated("openai", "cache-4")
    envs = sorted(envs, key=lambda e: e.seq)
    missing = envs[len(envs) // 2]
    first = [e for e in envs if e is not missing]
    progress = interpret_from(None, first)
    builder = progress.builder
    progress = interpret_from(progress, envs)  # the late frame sits inside the fed prefix
    assert progress.builder is not builder
    assert progress.builder.freeze() == interpret(envs)
