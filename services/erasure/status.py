"""What a request's status says, for ``voxledger erasure status|list`` and the HTTP API.

One shape for both: the request's state, sessions, per-store counts, residue, its Art. 12
deadline and, when refused, why (the legal hold's matter). Never an identifier: the request row
keeps only their HMACs, and those are not shown here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.erasure import repository as repo
from services.erasure.deadline import overdue


async def request_status(conn: AsyncConnection, rid: str, now: datetime) -> dict[str, Any] | None:
    """The status of request ``rid``; None when there is none."""
    row = await repo.get(conn, rid)
    if row is None:
        return None
    stores = await repo.stores(conn, rid)
    return {"request_id": rid, "tenant_id": row.tenant_id, "kind": row.kind,
            "status": row.status, "sessions": list(row.sessions),
            "stores": {s.store: {"deleted": s.deleted, "shredded": s.shredded,
                                 "status": s.status, **({"error": s.error} if s.error else {})}
                       for s in stores},
            "residue": row.residue or {}, "received_at": row.received_at.isoformat(),
            "due_at": row.due_at.isoformat(),
            "overdue": overdue(row.status, row.due_at, now),
            "extension_reason": row.extension_reason, "refused": row.refused_reason,
            "completion_position": row.closed_position}


async def list_statuses(conn: AsyncConnection, tenant: str | None, limit: int, now: datetime
                        ) -> list[dict[str, Any]]:
    """Requests, newest first: id, kind, state, how many sessions, deadline, overdue."""
    rows = await repo.list_requests(conn, tenant, limit)
    return [{"request_id": r.request_id, "tenant_id": r.tenant_id, "kind": r.kind,
             "status": r.status, "sessions": len(r.sessions),
             "received_at": r.received_at.isoformat(), "due_at": r.due_at.isoformat(),
             "overdue": overdue(r.status, r.due_at, now)} for r in rows]
