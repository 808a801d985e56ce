"""Reading the tenant's journal back: control events decrypted with the journal's data key.

The access log (``access.*``), holds, erasures and exports are read from the ledger itself, the
same rows ``verify`` checks, so what an auditor reads is what the signed checkpoints cover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.journal_ids import JOURNAL_SESSION
from services.ledger.models import LedgerEntry as E
from services.ledger.models import LedgerSession as S
from services.ledger.payloads import open_payload
from services.ledger.sealing import payload_aad
from services.platform.keys import KeyProvider


@dataclass(frozen=True)
class JournalEntry:
    position: int
    event_id: str
    type: str
    recorded_at: datetime
    body: dict[str, Any]


async def journal_entries(conn: AsyncConnection, keys: KeyProvider, tenant: str, *,
                          prefix: str, after: int = -1, limit: int = 100) -> list[JournalEntry]:
    """Journal events whose type starts with ``prefix`` (``"access."``), by position."""
    wrapped = (await conn.execute(select(S.wrapped_dek).where(
        S.tenant_id == tenant, S.session_id == JOURNAL_SESSION))).scalar()
    if wrapped is None:
        return []
    dek = keys.unwrap_dek(tenant, wrapped, JOURNAL_SESSION)
    rows = await conn.execute(
        select(E.position, E.event_id, E.type, E.recorded_at, E.payload_ct)
        .where(E.tenant_id == tenant, E.session_id == JOURNAL_SESSION,
               E.type.startswith(prefix, autoescape=True), E.position > after)
        .order_by(E.position).limit(limit))
    return [JournalEntry(r.position, r.event_id, r.type, r.recorded_at,
                         json.loads(open_payload(
                             dek, r.payload_ct,
                             payload_aad(tenant, JOURNAL_SESSION, r.event_id))))
            for r in rows]
