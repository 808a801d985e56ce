"""SQL of the transcript builder's write side. Every statement is idempotent: the consumer may
run a batch twice (redelivery) and the result is the same rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import Table, delete, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.transcripts.frames import StoredFrame
from services.transcripts.models import (
    TranscriptFrame,
    TranscriptSession,
    TranscriptToolCall,
    TranscriptTurn,
)
from services.transcripts.projection import Transcript

F = TranscriptFrame
S = TranscriptSession
# One statement per batch and session, its rows as one JSON text that Postgres unpacks: nearly
# every frame is an audio frame, and binding row by row ("insertmanyvalues", or a multi-row
# ``.values(rows)`` compiled anew each batch), or as arrays (psycopg quotes those in Python), cost
# more than everything else the builder does.
_ADD_FRAMES = text("""
INSERT INTO transcript_frames (tenant_id, session_id, seq, event_id, provider, direction, type,
                               kind, mono_ns, recorded_at, payload, audio)
SELECT :tenant, :session, f.seq, f.event_id, f.provider, f.direction, f.type, f.kind, f.mono_ns,
       f.recorded_at, f.payload, f.audio
FROM json_to_recordset(CAST(:rows AS json)) AS f(
  seq bigint, event_id text, provider text, direction text, type text, kind text, mono_ns bigint,
  recorded_at timestamptz, payload json, audio json)
ON CONFLICT DO NOTHING
RETURNING seq
""")


@dataclass(frozen=True, slots=True)
class Locked:
    ended: bool  # the last rebuild saw the session end
    frames_version: UUID | None  # see ``TranscriptSession.frames_version``


async def lock_session(conn: AsyncConnection, tenant: str, session: str, provider: str) -> Locked:
    """Create the session row if needed and lock it: rebuilds of one session never interleave
    (two consumer instances, or a redelivered batch racing a new one), and its frames and
    ``frames_version`` cannot change until this transaction ends."""
    await conn.execute(pg_insert(S).values(
        tenant_id=tenant, session_id=session, provider=provider[:32]).on_conflict_do_nothing())
    row = (await conn.execute(select(S.ended_at, S.frames_version).where(
        S.tenant_id == tenant, S.session_id == session).with_for_update())).one()
    return Locked(row.ended_at is not None, row.frames_version)


async def add_frames(conn: AsyncConnection, tenant: str, session: str,
                     frames: Sequence[StoredFrame], version: UUID) -> list[int]:
    """Insert frames not yet kept (keyed by seq); returns the seqs that were new. If any were,
    the session's ``frames_version`` becomes ``version`` in the same transaction."""
    if not frames:
        return []
    rows = json.dumps([{
        "seq": f.seq, "event_id": f.event_id, "provider": f.provider, "direction": f.direction,
        "type": f.type, "kind": f.kind, "mono_ns": f.mono_ns,
        "recorded_at": f.recorded_at.isoformat(), "payload": f.payload, "audio": f.audio,
    } for f in frames])
    added = sorted(seq for (seq,) in await conn.execute(
        _ADD_FRAMES, {"tenant": tenant, "session": session, "rows": rows}))
    if added:
        await conn.execute(update(S).where(S.tenant_id == tenant, S.session_id == session)
                           .values(frames_version=version))
    return added


async def load_frames(conn: AsyncConnection, tenant: str, session: str) -> list[StoredFrame]:
    rows = await conn.execute(
        select(F.seq, F.event_id, F.provider, F.direction, F.type, F.kind, F.mono_ns,
               F.recorded_at, F.payload, F.audio)
        .where(F.tenant_id == tenant, F.session_id == session).order_by(F.seq))
    return [StoredFrame(*r) for r in rows]


async def write_transcript(conn: AsyncConnection, tenant: str, session: str, frames: int,
                           t: Transcript) -> None:
    """Upsert the session's turns and tool calls by id, drop ids the rebuild no longer has."""
    key = {"tenant_id": tenant, "session_id": session}
    await conn.execute(update(TranscriptSession).where(
        TranscriptSession.tenant_id == tenant, TranscriptSession.session_id == session).values(
        **asdict(t.summary), frames=frames, updated_at=func.now()))
    await _replace(conn, TranscriptTurn, "turn_id", key,
                   [{**key, **asdict(r)} for r in t.turns])
    await _replace(conn, TranscriptToolCall, "call_id", key,
                   [{**key, **asdict(r)} for r in t.tool_calls])


async def _replace(conn: AsyncConnection, model: type[TranscriptTurn] | type[TranscriptToolCall],
                   id_col: str, key: dict[str, str], rows: list[dict[str, object]]) -> None:
    table = model.__table__
    assert isinstance(table, Table)
    where = (table.c.tenant_id == key["tenant_id"], table.c.session_id == key["session_id"])
    ids = [r[id_col] for r in rows]
    stale = delete(table).where(*where)
    if ids:
        stale = stale.where(tuple_(table.c[id_col]).not_in([(i,) for i in ids]))
    await conn.execute(stale)
    if rows:
        await conn.execute(_upsert(table, id_col, tuple(rows[0])), rows)


@cache
def _upsert(table: Table, id_col: str, cols: tuple[str, ...]) -> Any:
    stmt = pg_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id", "session_id", id_col],
        set_={c: stmt.excluded[c] for c in cols if c not in ("tenant_id", "session_id", id_col)})


async def projection_rows(conn: AsyncConnection, tenant: str, session: str
                          ) -> dict[str, list[dict[str, Any]]]:
    """What the live projection holds for a session, as the rows ``write_transcript`` wrote
    (``voxledger replay`` compares them with a rebuild from the ledger)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, model in (("transcript_sessions", TranscriptSession),
                        ("transcript_turns", TranscriptTurn), ("tool_calls", TranscriptToolCall)):
        table = model.__table__
        assert isinstance(table, Table)
        # Computed columns (the search vector) are Postgres's function of the stored ones.
        cols = [c for c in table.c if c.computed is None]
        rows = await conn.execute(select(*cols).where(
            table.c.tenant_id == tenant, table.c.session_id == session))
        out[name] = [dict(r._mapping) for r in rows]
    return out
