"""SQL of erasure requests and per-store status (the erasure capability's own tables)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.erasure.models import ErasureRequest, ErasureStore
from services.platform.forget import StoreOutcome

R, S = ErasureRequest, ErasureStore


async def insert_request(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(pg_insert(R).values(**values))


async def get(conn: AsyncConnection, request_id: str) -> Any:
    return (await conn.execute(select(*R.__table__.c).where(R.request_id == request_id))).first()


async def stores(conn: AsyncConnection, request_id: str) -> list[Any]:
    return list((await conn.execute(select(*S.__table__.c).where(S.request_id == request_id)
                                    .order_by(S.store))).all())


async def list_requests(conn: AsyncConnection, tenant: str | None, limit: int) -> list[Any]:
    stmt = select(*R.__table__.c).order_by(R.received_at.desc()).limit(limit)
    if tenant:
        stmt = stmt.where(R.tenant_id == tenant)
    return list((await conn.execute(stmt)).all())


async def claim(conn: AsyncConnection, now: datetime, lease_s: float,
                request_id: str | None = None) -> str | None:
    """Take one open request whose lease expired (a crashed worker's lease lapses)."""
    where = ("status IN ('received', 'running') AND (lease_until IS NULL OR lease_until < :now)"
             + (" AND request_id = :r" if request_id else ""))
    row = (await conn.execute(text(
        f"SELECT request_id FROM erasure_requests WHERE {where} ORDER BY received_at "
        "LIMIT 1 FOR UPDATE SKIP LOCKED"), {"now": now, "r": request_id})).first()
    if row is None:
        return None
    await conn.execute(update(R).where(R.request_id == row[0]).values(
        status="running", lease_until=now + timedelta(seconds=lease_s),
        attempts=R.attempts + 1, updated_at=now))
    return str(row[0])


async def renew(conn: AsyncConnection, request_id: str, until: datetime) -> None:
    await conn.execute(update(R).where(R.request_id == request_id).values(lease_until=until))


async def set_store(conn: AsyncConnection, request_id: str, outcome: StoreOutcome, status: str,
                    error: str | None, now: datetime) -> None:
    values = {"request_id": request_id, "store": outcome.store, "status": status,
              "deleted": outcome.deleted, "shredded": outcome.shredded,
              "beyond_use": [{"store": b.store, "key": b.key,
                              "until": b.until.isoformat() if b.until else None}
                             for b in outcome.beyond_use],
              "detail": outcome.detail, "error": error, "updated_at": now}
    await conn.execute(pg_insert(S).values(**values).on_conflict_do_update(
        index_elements=["request_id", "store"],
        set_={k: v for k, v in values.items() if k not in ("request_id", "store")}))


async def close(conn: AsyncConnection, request_id: str, **values: Any) -> None:
    await conn.execute(update(R).where(R.request_id == request_id).values(
        lease_until=None, identifiers_ct=None, identifiers_key=None, **values))


async def update_request(conn: AsyncConnection, request_id: str, **values: Any) -> None:
    await conn.execute(update(R).where(R.request_id == request_id).values(**values))


async def sessions_by_index(conn: AsyncConnection, tenant: str, indexes: list[str]) -> list[str]:
    rows = await conn.execute(text(
        "SELECT DISTINCT session_id FROM ledger_subjects WHERE tenant_id = :t AND "
        "subject_index = ANY(:i) ORDER BY session_id"), {"t": tenant, "i": indexes})
    return [r[0] for r in rows]


async def known_sessions(conn: AsyncConnection, tenant: str, sessions: list[str]) -> list[str]:
    rows = await conn.execute(text(
        "SELECT session_id FROM ledger_sessions WHERE tenant_id = :t AND session_id = ANY(:s) "
        "ORDER BY session_id"), {"t": tenant, "s": sessions})
    return [r[0] for r in rows]
