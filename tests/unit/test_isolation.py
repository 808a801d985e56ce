"""Poison isolation: bisection finds the failing events, commits the rest in order, and never
blames the events for an outage."""

from __future__ import annotations

import asyncio

import asyncpg
import psycopg
import pytest
from sqlalchemy.exc import DataError, OperationalError

from services.platform.isolation import Rejected, bisect_apply, is_transient


class Store:
    """A transactional twin: a commit applies all of its part or nothing."""

    def __init__(self, poison: set[int], fail: BaseException | None = None) -> None:
        self.poison = poison
        self.fail = fail
        self.applied: list[int] = []
        self.letters: dict[int, str] = {}
        self.progress: list[int] = []

    async def commit(self, part: list[int], letters: dict[int, str]) -> None:
        if self.fail is not None:
            raise self.fail
        if any(i in self.poison and i not in letters for i in part):
            raise DataError("INSERT …", {}, ValueError("value out of range"))
        self.applied += [i for i in part if i not in letters]
        self.letters.update(letters)
        self.progress.append(max(part))


@pytest.mark.parametrize("n,poison", [(1, {0}), (10, {3}), (500, {0, 499}), (64, {5, 6, 40}),
                                      (7, set(range(7))), (100, set())])
def test_bisection_dead_letters_exactly_the_poison_and_commits_the_rest(
        n: int, poison: set[int]) -> None:
    store = Store(poison)
    out = asyncio.run(bisect_apply(list(range(n)), lambda i: i, store.commit))
    assert set(out.letters) == poison
    assert all(r.startswith("handler_failed: DataError") for r in out.letters.values())
    assert "out of range" not in " ".join(out.letters.values())  # type and SQLSTATE only
    assert sorted(store.applied) == [i for i in range(n) if i not in poison]
    assert store.applied == sorted(store.applied), "parts must commit in stream order"
    assert store.progress == sorted(store.progress) and store.progress[-1] == n - 1


def test_initial_letters_are_set_aside_without_a_search() -> None:
    store = Store(set())
    out = asyncio.run(bisect_apply(list(range(5)), lambda i: i, store.commit, {2: "invalid"}))
    assert out.letters == {2: "invalid"} and out.attempts == 1
    assert store.applied == [0, 1, 3, 4]


def test_a_handler_names_its_rejected_events() -> None:
    calls: list[list[int]] = []

    async def commit(part: list[int], letters: dict[int, str]) -> None:
        calls.append(part)
        if 4 not in letters:
            raise Rejected({4: "session_key_destroyed", 99: "not in this batch"})

    out = asyncio.run(bisect_apply(list(range(8)), lambda i: i, commit))
    assert out.letters == {4: "session_key_destroyed"} and len(calls) == 2


def test_an_outage_is_not_blamed_on_the_events() -> None:
    down = OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused"))
    store = Store({3}, fail=down)
    with pytest.raises(OperationalError):
        asyncio.run(bisect_apply(list(range(10)), lambda i: i, store.commit))
    assert store.letters == {} and store.applied == []


@pytest.mark.parametrize("exc,transient", [
    (ConnectionRefusedError(), True),
    (TimeoutError(), True),
    (OperationalError("x", {}, psycopg.OperationalError("server closed the connection")), True),
    (DataError("x", {}, psycopg.errors.NumericValueOutOfRange("out of range")), False),
    (ValueError("bad"), False),
    (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
    (OverflowError(), False),
    # asyncpg (an engine on postgresql+asyncpg): the same SQLSTATE classes decide
    (asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle of operation"), True),
    (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
    (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), True),
    (asyncpg.exceptions.SerializationError("could not serialize access"), True),
    (asyncpg.exceptions.InterfaceError("connection is closed"), True),
    (DataError("x", {}, asyncpg.exceptions.NumericValueOutOfRangeError("out of range")), False),
    (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
    (asyncpg.exceptions.UntranslatableCharacterError("unsupported Unicode escape"), False),
])
def test_transient_or_poison(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient
