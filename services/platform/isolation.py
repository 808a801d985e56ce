"""Poison isolation: find the event that makes a batch fail, without blaming a server outage.

A batch that fails for a reason of its own content (a value Postgres refuses, a frame a handler
cannot apply) is split in halves until the failing event stands alone; that event is
dead-lettered with its reason and everything else commits (law 9: one frame never stops the
pipeline). A failure that says nothing about the events (a connection refused or dropped, a
server shutting down, a serialization conflict, anything from S3 or NATS) is *transient*: the
batch is not split, the consumer backs off and retries it whole, so an outage never
dead-letters good events.

A handler may also name the bad events itself by raising :class:`Rejected` (the sealer does for
a session whose key was destroyed): those are dead-lettered with the given reasons without a
search. :class:`StaleProgress` (an ordered consumer's progress row moved under it) is transient.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

# SQLSTATE classes that describe the server or the session, never the data: connection (08),
# transaction rollback (40: serialization, deadlock), insufficient resources (53), operator
# intervention (57: shutdown, cancel), system error (58); lock not available.
_TRANSIENT_SQLSTATE = ("08", "40", "53", "57", "58", "55P03", "55006")


class Rejected(Exception):
    """Raised by a handler: these events (item key → reason; ``Delivered.key``) cannot be
    applied."""

    def __init__(self, reasons: dict[int, str]) -> None:
        super().__init__(f"{len(reasons)} event(s) rejected")
        self.reasons = reasons


class StaleProgress(Exception):
    """An ordered consumer's progress row is not what it last committed (another instance
    committed, or a commit whose outcome was lost did go through): never the events' fault; the
    consumer re-reads its position and retries."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is about a server or the connection rather than the events."""
    for e in _chain(exc):
        if isinstance(e, OSError | TimeoutError | ConnectionError | StaleProgress):
            return True
        module = type(e).__module__.split(".")[0]
        if module in ("botocore", "boto3", "urllib3", "nats"):
            return True
        if module == "sqlalchemy":
            if getattr(e, "connection_invalidated", False):
                return True
            if type(e).__name__ in ("InterfaceError", "DisconnectionError", "TimeoutError",
                                    "ResourceClosedError"):
                return True
        if module in ("psycopg", "asyncpg"):  # the two drivers an engine may run on
            state = getattr(e, "sqlstate", None)
            if state is None and type(e).__name__ in ("OperationalError", "InterfaceError",
                                                      "InternalClientError"):
                return True  # no SQLSTATE: the client lost or never had a connection
            if state is not None and state.startswith(_TRANSIENT_SQLSTATE):
                return True
    return False


def reason_of(exc: BaseException) -> str:
    """A content-free reason: the exception type and, from Postgres, the SQLSTATE only."""
    state = next((s for e in _chain(exc) if (s := getattr(e, "sqlstate", None))), None)
    return f"handler_failed: {type(exc).__name__}" + (f" (sqlstate {state})" if state else "")


T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    """Which items a bisection had to set aside, with their reasons."""

    letters: dict[int, str]
    attempts: int = 0


async def bisect_apply(items: list[T], key: Callable[[T], int],
                       commit: Callable[[list[T], dict[int, str]], Awaitable[None]],
                       letters: dict[int, str] | None = None) -> Outcome[T]:
    """Commit ``items`` in order, isolating the ones that fail.

    ``commit(part, letters)`` applies ``part`` in one transaction, dead-lettering the items whose
    key is in ``letters`` (with those reasons) instead of applying them. Parts are committed in
    order (the left half before the right), which keeps an ordered consumer's progress
    monotonic. ``letters`` are set aside from the start (frames that did not decode). A
    transient error propagates untouched: the caller backs off and retries.
    """
    out: Outcome[T] = Outcome(dict(letters or {}))

    async def run(part: list[T]) -> None:
        while True:
            out.attempts += 1
            mine = {key(i): out.letters[key(i)] for i in part if key(i) in out.letters}
            try:
                await commit(part, mine)
                return
            except Rejected as rejected:
                named = {k: v for k, v in rejected.reasons.items()
                         if k in {key(i) for i in part} and k not in out.letters}
                if named:
                    out.letters.update(named)
                    continue  # the rest again, with those set aside
                exc: BaseException = rejected
            except Exception as e:
                if is_transient(e):
                    raise
                exc = e
            pending = [i for i in part if key(i) not in out.letters]
            if len(pending) <= 1:
                if not pending:
                    raise exc  # fails with every event set aside: not the events' fault
                out.letters[key(pending[0])] = reason_of(exc)
                continue
            half = len(part) // 2
            await run(part[:half])
            await run(part[half:])
            return

    await run(items)
    return out
