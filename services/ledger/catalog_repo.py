"""Queries over the session catalog (metadata only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.catalog_models import SessionRow


def _as_dict(row: Any) -> dict[str, Any]:
    duration = None
    if row.started_at and row.ended_at:
        duration = int((row.ended_at - row.started_at).total_seconds() * 1000)
    return {
        "session_id": row.session_id, "tenant_id": row.tenant_id, "provider": row.provider,
        "started_at": row.started_at.isoformat() if row.started_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "duration_ms": duration, "events": row.events, "max_seq": row.max_seq,
        "end_reason": row.end_reason,
    }


def list_sessions(conn: Connection, tenant: str | None = None, since: datetime | None = None,
                  limit: int = 200) -> list[dict[str, Any]]:
    q = select(SessionRow.__table__).order_by(SessionRow.first_seen_at.desc()).limit(limit)
    if tenant:
        q = q.where(SessionRow.tenant_id == tenant)
    if since:
        q = q.where(SessionRow.last_seen_at >= since)
    return [_as_dict(r) for r in conn.execute(q).all()]


def find_session(conn: Connection, session_id: str, tenant: str | None = None
                 ) -> list[dict[str, Any]]:
    q = select(SessionRow.__table__).where(SessionRow.session_id == session_id)
    if tenant:
        q = q.where(SessionRow.tenant_id == tenant)
    return [_as_dict(r) for r in conn.execute(q).all()]


def event_kinds(conn: Connection, tenant: str, session_id: str) -> dict[str, int]:
    q = select(SessionRow.kind_counts).where(SessionRow.tenant_id == tenant,
                                             SessionRow.session_id == session_id)
    kinds = conn.execute(q).scalar() or {}
    return {str(kind): int(n) for kind, n in kinds.items()}


def totals(conn: Connection) -> dict[str, int]:
    row = conn.execute(select(func.count(), func.coalesce(func.sum(SessionRow.events), 0))).one()
    return {"sessions": int(row[0]), "events": int(row[1])}


def page_sessions(conn: Connection, tenant: str, *, since: datetime | None = None,
                  until: datetime | None = None, provider: str | None = None,
                  ended: bool | None = None, after: tuple[datetime, str] | None = None,
                  limit: int = 50, held: bool | None = None, erased: bool | None = None
                  ) -> list[dict[str, Any]]:
    """One tenant's sessions newest first (by first seen, then id), keyset-paged: ``after`` is
    the (first_seen_at, session_id) of the last row of the previous page. Each row carries
    ``first_seen_at`` for the next cursor."""
    s = SessionRow
    q = (select(s.__table__).where(s.tenant_id == tenant)
         .order_by(s.first_seen_at.desc(), s.session_id.desc()).limit(limit))
    if since is not None:
        q = q.where(s.started_at >= since)
    if until is not None:
        q = q.where(s.started_at < until)
    if provider is not None:
        q = q.where(s.provider == provider)
    if ended is not None:
        q = q.where(s.ended_at.is_not(None) if ended else s.ended_at.is_(None))
    if after is not None:
        q = q.where(tuple_(s.first_seen_at, s.session_id) < tuple_(*after))
    if held is not None or erased is not None:
        from services.retention.session_state import where_state

        q = where_state(q, s.tenant_id, s.session_id, is_held=held, is_erased=erased)
    return [{**_as_dict(r), "first_seen_at": r.first_seen_at} for r in conn.execute(q).all()]


async def catalog_rows(conn: AsyncConnection, tenant: str) -> list[dict[str, Any]]:
    """Every catalog row of a tenant, all columns (``voxledger replay`` compares them)."""
    rows = await conn.execute(select(SessionRow.__table__).where(SessionRow.tenant_id == tenant))
    return [dict(r._mapping) for r in rows]
