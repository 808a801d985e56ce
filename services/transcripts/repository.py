"""SQL of the transcript builder's write side. Every statement is idempotent: the consumer may
apply a batch twice (a retry) and the result is the same rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, Final
from uuid import UUID

from sqlalchemy import Table, TextClause, delete, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.transcripts.models import (
    TranscriptSession,
    TranscriptToolCall,
    TranscriptTurn,
)
from services.transcripts.projection import SessionSummary, Transcript

S = TranscriptSession


@dataclass(frozen=True, slots=True)
class Locked:
    ended: bool  # the last rebuild saw the session end
    frames_version: UUID | None  # see ``TranscriptSession.frames_version``


_LOCK_MANY = text("""
    SELECT s.tenant_id, s.session_id, s.ended_at, s.frames_version
      FROM transcript_sessions s
      JOIN unnest(CAST(:tenants AS text[]), CAST(:sessions AS text[])) AS k(tenant_id, session_id)
        ON s.tenant_id = k.tenant_id AND s.session_id = k.session_id
     ORDER BY s.tenant_id, s.session_id
       FOR UPDATE OF s
""")


async def lock_sessions(conn: AsyncConnection, providers: dict[tuple[str, str], str]
                        ) -> dict[tuple[str, str], Locked]:
    """Create each (tenant, session) row of ``providers`` (-> the provider a new row gets) if
    needed and lock it, in key order, in one statement while the rows exist: rebuilds of one
    session never interleave (two instances, or ``maintain`` racing a batch), and its
    ``frames_version`` cannot change until this transaction ends."""
    keys = sorted(providers)

    async def locked() -> dict[tuple[str, str], Locked]:
        rows = await conn.execute(_LOCK_MANY, {"tenants": [k[0] for k in keys],
                                               "sessions": [k[1] for k in keys]})
        return {(r.tenant_id, r.session_id): Locked(r.ended_at is not None, r.frames_version)
                for r in rows}

    out = await locked()
    missing = [k for k in keys if k not in out]
    if missing:
        await conn.execute(pg_insert(S).values([
            {"tenant_id": t, "session_id": s, "provider": providers[(t, s)][:32]}
            for t, s in missing]).on_conflict_do_nothing())
        out = await locked()
    return out


_SET_VERSIONS = text("""
    UPDATE transcript_sessions s SET frames_version = v.version
      FROM unnest(CAST(:tenants AS text[]), CAST(:sessions AS text[]), CAST(:versions AS uuid[]))
           AS v(tenant_id, session_id, version)
     WHERE s.tenant_id = v.tenant_id AND s.session_id = v.session_id
""")


async def set_frames_versions(conn: AsyncConnection,
                              versions: dict[tuple[str, str], UUID]) -> None:
    """The builder's copy of each session's frames changed in this transaction (``cache.py``):
    the new ``frames_version`` of every session in ``versions``, in one statement."""
    if not versions:
        return
    keys = sorted(versions)
    await conn.execute(_SET_VERSIONS, {"tenants": [k[0] for k in keys],
                                       "sessions": [k[1] for k in keys],
                                       "versions": [versions[k] for k in keys]})


def _set_summary(version: bool) -> TextClause:
    cols = [f.name for f in fields(SessionSummary)] + ["frames"] + (
        ["frames_version"] if version else [])
    return text(f"UPDATE transcript_sessions SET {', '.join(f'{c} = :{c}' for c in cols)}, "
                "updated_at = now() WHERE tenant_id = :k_tenant AND session_id = :k_session")


# As text, built once: a SQLAlchemy construct made per rebuild costs its cache key every time.
_SET_SUMMARY: Final = {version: _set_summary(version) for version in (False, True)}


async def write_transcript(conn: AsyncConnection, tenant: str, session: str, frames: int,
                           t: Transcript, version: UUID | None = None,
                           written: Transcript | None = None) -> None:
    """Upsert the session's turns and tool calls by id, drop ids the rebuild no longer has.

    ``written``: the transcript this session's rows hold now (the builder's last write, trusted
    under the row's ``frames_version``); then only the rows that differ from it are written and
    only the ids it had and ``t`` has not are deleted. ``version``: the session row's new
    ``frames_version``, set with the summary."""
    values: dict[str, Any] = {**vars(t.summary), "frames": frames, "k_tenant": tenant,
                              "k_session": session}
    if version is not None:
        values["frames_version"] = version
    await conn.execute(_SET_SUMMARY[version is not None], values)
    key = {"tenant_id": tenant, "session_id": session}
    await _replace(conn, TranscriptTurn, "turn_id", key, t.turns,
                   None if written is None else written.turns)
    await _replace(conn, TranscriptToolCall, "call_id", key, t.tool_calls,
                   None if written is None else written.tool_calls)


async def _replace(conn: AsyncConnection, model: type[TranscriptTurn] | type[TranscriptToolCall],
                   id_col: str, key: dict[str, str], rows: Sequence[Any],
                   before: Sequence[Any] | None) -> None:
    table = model.__table__
    assert isinstance(table, Table)
    where = (table.c.tenant_id == key["tenant_id"], table.c.session_id == key["session_id"])
    ids = [getattr(r, id_col) for r in rows]
    if before is None:  # what the table holds is not known: every other id goes
        stale = delete(table).where(*where)
        if ids:
            stale = stale.where(tuple_(table.c[id_col]).not_in([(i,) for i in ids]))
        await conn.execute(stale)
        changed = list(rows)
    else:
        old = {getattr(r, id_col): r for r in before}
        gone = sorted(set(old) - set(ids))
        if gone:
            await conn.execute(delete(table).where(*where, table.c[id_col].in_(gone)))
        changed = [r for r in rows if old.get(getattr(r, id_col)) != r]
    if changed:
        dicts = [{**key, **vars(r)} for r in changed]
        await conn.execute(_upsert(table, id_col, tuple(dicts[0])), dicts)


@cache
def _upsert(table: Table, id_col: str, cols: tuple[str, ...]) -> TextClause:
    """As text, built once per column set (see ``_SET_SUMMARY``)."""
    keys = ("tenant_id", "session_id", id_col)
    return text(f"INSERT INTO {table.name} ({', '.join(cols)}) "
                f"VALUES ({', '.join(f':{c}' for c in cols)}) "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys))


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
