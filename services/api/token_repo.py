"""SQL of the API tokens (the API capability's own table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert as insert_
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.api.models import ApiToken as T


async def insert(conn: AsyncConnection, token_id: str, tenant: str, role: str, name: str,
                 secret_sha256: bytes) -> None:
    await conn.execute(insert_(T).values(
        token_id=token_id, tenant_id=tenant, role=role, name=name, secret_sha256=secret_sha256))


async def find(conn: AsyncConnection, token_id: str) -> Any:
    """The live (unrevoked) token row, or None."""
    return (await conn.execute(
        select(T.token_id, T.tenant_id, T.role, T.name, T.secret_sha256)
        .where(T.token_id == token_id, T.revoked_at.is_(None)))).first()


async def list_tokens(conn: AsyncConnection, tenant: str | None) -> list[dict[str, Any]]:
    stmt = (select(T.token_id, T.tenant_id, T.role, T.name, T.created_at, T.revoked_at)
            .order_by(T.tenant_id, T.created_at))
    if tenant is not None:
        stmt = stmt.where(T.tenant_id == tenant)
    return [{"token_id": r.token_id, "tenant_id": r.tenant_id, "role": r.role, "name": r.name,
             "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None}
            for r in await conn.execute(stmt)]


async def revoke(conn: AsyncConnection, token_id: str, at: datetime) -> bool:
    res = await conn.execute(update(T).where(T.token_id == token_id, T.revoked_at.is_(None))
                             .values(revoked_at=at))
    return bool(res.rowcount)


async def revoke_in_tenant(conn: AsyncConnection, tenant: str, token_id: str,
                           at: datetime) -> bool:
    """Revoke a live token of ``tenant`` (False for another tenant's id, as for an unknown one)."""
    res = await conn.execute(update(T).where(T.token_id == token_id, T.tenant_id == tenant,
                                             T.revoked_at.is_(None)).values(revoked_at=at))
    return bool(res.rowcount)
