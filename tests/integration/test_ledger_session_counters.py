"""The sealer's per-session counters (law 2: gaps and duplicates reported), written for every
session of a batch by one statement, against the real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.ledger import repository as repo
from services.ledger.sealing import SessionDelta
from services.platform.db import make_async_engine
from services.platform.settings import Settings

pytestmark = pytest.mark.integration

COLUMNS = ("entries", "first_position", "last_position", "max_seq", "missing", "duplicates",
           "seq_conflicts", "out_of_order", "audio_bytes", "started", "ended",
           "last_seq_declared", "end_reason")


async def test_one_statement_updates_every_session_of_a_batch(settings: Settings,
                                                              tenant: str) -> None:
    engine = make_async_engine(settings)
    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    try:
        async with engine.begin() as conn:
            states = await repo.lock_sessions(conn, tenant, ["a", "b", "c"], lambda _session: b"k" * 40)
            assert {s.max_seq for s in states.values()} == {-1}
            # Batch 1: "a" gets seqs 0..4 with seq 2 missing (so 4 entries, max 4), "b" starts,
            # "c" only brings duplicates.
            await repo.update_sessions(conn, tenant, [
                ("a", SessionDelta(entries=4, first_position=0, last_position=3, max_seq=4,
                                   out_of_order=1, audio_bytes=960, started=True,
                                   last_event_at=at), 0, 0),
                ("b", SessionDelta(entries=1, first_position=4, last_position=4, max_seq=0,
                                   started=True, last_event_at=at), 0, 0),
                ("c", None, 3, 0)])
            # Batch 2: "a" ends declaring last seq 6 (5 and 6 never came), one seq conflict.
            await repo.update_sessions(conn, tenant, [
                ("a", SessionDelta(entries=1, first_position=5, last_position=5, max_seq=4,
                                   ended=True, last_seq_declared=6, end_reason="completed",
                                   last_event_at=at), 2, 1)])
            rows = {r[0]: dict(zip(COLUMNS, r[1:], strict=True)) for r in await conn.execute(
                text(f"SELECT session_id, {', '.join(COLUMNS)} FROM ledger_sessions "
                     "WHERE tenant_id = :t"), {"t": tenant})}
            await conn.rollback()
    finally:
        await engine.dispose()
    assert rows["a"] == {
        "entries": 5, "first_position": 0, "last_position": 5, "max_seq": 4,
        # expected seqs 0..6 = 7, present = 5 entries - 1 conflict = 4 → 3 missing
        "missing": 3, "duplicates": 2, "seq_conflicts": 1, "out_of_order": 1,
        "audio_bytes": 960, "started": True, "ended": True, "last_seq_declared": 6,
        "end_reason": "completed"}
    assert rows["b"] == {
        "entries": 1, "first_position": 4, "last_position": 4, "max_seq": 0, "missing": 0,
        "duplicates": 0, "seq_conflicts": 0, "out_of_order": 0, "audio_bytes": 0,
        "started": True, "ended": False, "last_seq_declared": None, "end_reason": None}
    assert rows["c"]["duplicates"] == 3 and rows["c"]["entries"] == 0
    assert rows["c"]["max_seq"] == -1 and rows["c"]["missing"] == 0
