"""Queries over the session catalog (metadata only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
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


async def catalog_rows(conn: AsyncConnection, tenant: str) -> list[dict[str, Any]]:
    """Every catalog row of a tenant, all columns (``voxledger replay`` compares them)."""
    rows = await conn.execute(select(SessionRow.__table__).where(SessionRow.tenant_id == tenant))
    return [dict(r._mapping) for r in rows]
