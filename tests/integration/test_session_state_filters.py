"""The held / erased filters of session lists and searches (console search page, issue 18;
``GET /v1/sessions?held=&erased=``), on real Postgres: a session hold, a subject hold reaching a
session through its HMAC index, a released hold that no longer counts, a tenant hold covering
everything, and a destroyed data key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text

from services.ledger.catalog_repo import page_sessions

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _ids(conn: Connection, tenant: str, **state: bool | None) -> list[str]:
    return sorted(r["session_id"] for r in page_sessions(conn, tenant, limit=50, **state))


def _hold(conn: Connection, tenant: str, scope: str, *, session: str | None = None,
          index: str | None = None, released: bool = False) -> None:
    conn.execute(text(
        "INSERT INTO legal_holds (hold_id, tenant_id, scope, session_id, subject_kind, "
        "subject_index, matter, reason, placed_by, placed_at, released_at) VALUES (:h, :t, :sc, "
        ":s, :k, :i, 'M-1', 'test', 'test', :at, :rel)"),
        {"h": str(uuid.uuid4()), "t": tenant, "sc": scope, "s": session,
         "k": "phone_e164" if index else None, "i": index, "at": NOW,
         "rel": NOW if released else None})


def test_held_and_erased_filter_the_session_list(sync_engine: Engine, tenant: str) -> None:
    engine: Engine = sync_engine  # type: ignore[assignment]
    sids = ["s-plain", "s-held", "s-subject", "s-erased", "s-released"]
    with engine.begin() as conn:
        for i, s in enumerate(sids):
            at = NOW - timedelta(minutes=i)
            conn.execute(text(
                "INSERT INTO sessions (tenant_id, session_id, provider, started_at, first_seen_at,"
                " last_seen_at, events, max_seq) VALUES (:t, :s, 'openai-realtime', :at, :at, "
                ":at, 1, 0)"), {"t": tenant, "s": s, "at": at})
            conn.execute(text(
                "INSERT INTO ledger_sessions (tenant_id, session_id, wrapped_dek, entries, "
                "max_seq, missing, duplicates, seq_conflicts, out_of_order, audio_bytes, started,"
                " ended) VALUES (:t, :s, :k, 1, 0, 0, 0, 0, 0, 0, true, true)"),
                {"t": tenant, "s": s, "k": None if s == "s-erased" else b"\x02key"})
        conn.execute(text("INSERT INTO ledger_subjects (tenant_id, session_id, kind, "
                          "subject_index) VALUES (:t, 's-subject', 'phone_e164', 'idx-1')"),
                     {"t": tenant})
        _hold(conn, tenant, "session", session="s-held")
        _hold(conn, tenant, "subject", index="idx-1")
        _hold(conn, tenant, "session", session="s-released", released=True)

    with engine.connect() as conn:
        assert _ids(conn, tenant) == sorted(sids)
        assert _ids(conn, tenant, held=True) == ["s-held", "s-subject"]
        assert _ids(conn, tenant, held=False) == ["s-erased", "s-plain", "s-released"]
        assert _ids(conn, tenant, erased=True) == ["s-erased"]
        assert _ids(conn, tenant, held=False, erased=False) == ["s-plain", "s-released"]
    with engine.begin() as conn:
        _hold(conn, tenant, "tenant")
    with engine.connect() as conn:
        assert _ids(conn, tenant, held=True) == sorted(sids)
        assert _ids(conn, tenant, held=False) == []
