"""Per-session ledger metadata for ``voxledger sessions show`` (law 2: completeness is reported)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import reads


async def ledger_summary(conn: AsyncConnection, tenant: str, session: str) -> dict[str, Any]:
    """``{"entries", "first_position", "last_position", "gaps", "missing", "duplicates", ...}``.

    ``gaps`` are inclusive seq ranges missing from 0 to the declared last seq (or the highest seen);
    an unknown session gives ``{"entries": 0, "sealed": False}``.
    """
    rows = await reads.sessions(conn, tenant, session)
    if not rows:
        return {"sealed": False, "entries": 0, "first_position": None, "last_position": None,
                "gaps": [], "missing": 0, "duplicates": 0, "ended": False}
    s = rows[0]
    declared = s.last_seq_declared if s.last_seq_declared is not None else -1
    gaps = await reads.seq_gaps(conn, tenant, session, max(s.max_seq, declared))
    return {
        "sealed": True,
        "entries": s.entries,
        "first_position": s.first_position,
        "last_position": s.last_position,
        "gaps": [[first, last] for first, last in gaps],
        "missing": sum(last - first + 1 for first, last in gaps),
        "duplicates": s.duplicates,
        "seq_conflicts": s.seq_conflicts,
        "out_of_order": s.out_of_order,
        "max_seq": s.max_seq,
        "ended": s.ended,
        "end_reason": s.end_reason,
        "last_seq_declared": s.last_seq_declared,
        "timed_out": s.timed_out_at is not None,
        "audio_bytes": s.audio_bytes,
        "erased": s.wrapped_dek is None,
    }
