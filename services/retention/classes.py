"""Each session's retention class and start, read once from its sealed ``session.started``.

The ledger is the source of truth; ``retention_sessions`` caches the two facts the job needs so a
run does not decrypt every session every day. Read before anything of the session is disposed
(the job syncs first), so destroying a session's key later does not lose its class. A session
whose ``session.started`` is missing counts from its first event with the ``standard`` class; a
session already erased before it was read (key destroyed) likewise ("unreadable").
"""

from __future__ import annotations

import json
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.ledger.payloads import open_payload
from services.ledger.sealing import payload_aad
from services.platform.forget import ForgetContext
from services.retention.models import RetentionSession
from services.retention.policy import RETENTION_CLASS

DEFAULT_CLASS: Final = "standard"
CHUNK: Final = 500

_NEW = text("""
    SELECT s.session_id, s.wrapped_dek FROM ledger_sessions s
     WHERE s.tenant_id = :t AND left(s.session_id, 1) <> '_' AND s.entries > 0
       AND NOT EXISTS (SELECT 1 FROM retention_sessions r
                        WHERE r.tenant_id = s.tenant_id AND r.session_id = s.session_id)
     ORDER BY s.session_id LIMIT :n
""")
_STARTS = text("""
    SELECT DISTINCT ON (e.session_id) e.session_id, e.event_id, e.payload_ct, e.recorded_at
      FROM ledger_entries e
     WHERE e.tenant_id = :t AND e.session_id = ANY(CAST(:ids AS text[]))
       AND e.type = 'session.started' AND e.direction = 'system'
     ORDER BY e.session_id, e.seq
""")
_FIRST = text("""
    SELECT e.session_id, min(e.recorded_at) FROM ledger_entries e
     WHERE e.tenant_id = :t AND e.session_id = ANY(CAST(:ids AS text[])) GROUP BY e.session_id
""")


def _class_of(payload: bytes) -> str:
    try:
        value = json.loads(payload).get("retention_class")
    except (ValueError, AttributeError):
        return DEFAULT_CLASS
    return value if isinstance(value, str) and RETENTION_CLASS.match(value) else DEFAULT_CLASS


async def sync(ctx: ForgetContext, tenant: str) -> int:
    """Cache the class and start of every session not cached yet; returns how many."""
    total = 0
    while True:
        async with ctx.engine.begin() as conn:
            new = (await conn.execute(_NEW, {"t": tenant, "n": CHUNK})).all()
            if not new:
                return total
            ids = [str(r[0]) for r in new]
            deks = {str(r[0]): r[1] for r in new}
            starts = {str(r[0]): r for r in await conn.execute(_STARTS, {"t": tenant, "ids": ids})}
            firsts = {str(r[0]): r[1] for r in await conn.execute(_FIRST, {"t": tenant, "ids": ids})}
            rows: list[dict[str, Any]] = []
            for sid in ids:
                start = starts.get(sid)
                row = {"tenant_id": tenant, "session_id": sid, "retention_class": DEFAULT_CLASS,
                       "started_at": firsts[sid], "source": "no-start"}
                if start is not None:
                    row["started_at"] = start[3]
                    wrapped = deks[sid]
                    if wrapped is None:
                        row["source"] = "unreadable"
                    else:
                        dek = ctx.keys.unwrap_dek(tenant, wrapped, sid)
                        plain = open_payload(dek, start[2],
                                             payload_aad(tenant, sid, str(start[1])))
                        row["retention_class"], row["source"] = _class_of(plain), "started"
                rows.append(row)
            await conn.execute(pg_insert(RetentionSession).values(rows).on_conflict_do_nothing())
            total += len(rows)
