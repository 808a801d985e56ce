"""SQL of the ledger's read side: verify, summaries. Read-only; callers pick the transaction.

Rows are returned as SQLAlchemy ``Row`` objects read by attribute (typed ``Any`` here).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.models import (
    LedgerAudioRef,
    LedgerAudioSegment,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerSession,
    LedgerTree,
    LedgerWormOutbox,
)

E = LedgerEntry


async def tenants(conn: AsyncConnection, only: str | None = None) -> list[str]:
    stmt = select(LedgerTree.tenant_id).order_by(LedgerTree.tenant_id)
    if only is not None:
        stmt = stmt.where(LedgerTree.tenant_id == only)
    return [r[0] for r in await conn.execute(stmt)]


async def tree(conn: AsyncConnection, tenant: str) -> Any:
    return (await conn.execute(select(LedgerTree.size, LedgerTree.root).where(
        LedgerTree.tenant_id == tenant))).first()


async def iter_entries(conn: AsyncConnection, tenant: str, chunk: int = 5000
                       ) -> AsyncIterator[Any]:
    """Entries in position order, keyset-paged so memory stays flat on long ledgers."""
    after = -1
    while True:
        rows = (await conn.execute(
            select(E.position, E.event_id, E.session_id, E.seq, E.schema_version, E.provider,
                   E.direction, E.type, E.recorded_at, E.mono_ns, E.payload_ct,
                   E.payload_sha256, E.audio_sha256, E.leaf_hash)
            .where(E.tenant_id == tenant, E.position > after)
            .order_by(E.position).limit(chunk))).all()
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1].position


async def checkpoints(conn: AsyncConnection, tenant: str) -> Sequence[Any]:
    return (await conn.execute(
        select(LedgerCheckpoint.size, LedgerCheckpoint.root, LedgerCheckpoint.note,
               LedgerCheckpoint.worm_key, LedgerWormOutbox.size.is_not(None).label("worm_pending"))
        .outerjoin(LedgerWormOutbox, (LedgerWormOutbox.tenant_id == LedgerCheckpoint.tenant_id)
                   & (LedgerWormOutbox.size == LedgerCheckpoint.size))
        .where(LedgerCheckpoint.tenant_id == tenant).order_by(LedgerCheckpoint.size))).all()


async def audio_refs(conn: AsyncConnection, tenant: str, session: str | None = None
                     ) -> Sequence[Any]:
    stmt = (select(LedgerAudioRef.position, LedgerAudioRef.ordinal, LedgerAudioRef.session_id,
                   LedgerAudioRef.segment_key, LedgerAudioRef.offset, LedgerAudioRef.length,
                   LedgerAudioRef.sha256)
            .where(LedgerAudioRef.tenant_id == tenant)
            .order_by(LedgerAudioRef.position, LedgerAudioRef.ordinal))
    if session is not None:
        stmt = stmt.where(LedgerAudioRef.session_id == session)
    return (await conn.execute(stmt)).all()


async def segments(conn: AsyncConnection, tenant: str, session: str | None = None
                   ) -> dict[str, Any]:
    stmt = select(LedgerAudioSegment.key, LedgerAudioSegment.session_id,
                  LedgerAudioSegment.length, LedgerAudioSegment.ct_sha256,
                  LedgerAudioSegment.object_key, LedgerAudioSegment.object_offset,
                  LedgerAudioSegment.object_length, LedgerAudioSegment.codec).where(
        LedgerAudioSegment.tenant_id == tenant)
    if session is not None:
        stmt = stmt.where(LedgerAudioSegment.session_id == session)
    return {r.key: r for r in await conn.execute(stmt)}


async def segment_objects(conn: AsyncConnection, tenant: str, session: str) -> list[str]:
    """Keys of the batch objects holding a part of this session (shared with other sessions of
    the same batch; pre-batch segments are under ``raw/<tenant>/<session>/`` and not listed)."""
    rows = await conn.execute(
        select(LedgerAudioSegment.object_key).where(
            LedgerAudioSegment.tenant_id == tenant, LedgerAudioSegment.session_id == session,
            LedgerAudioSegment.object_key.is_not(None)).distinct()
        .order_by(LedgerAudioSegment.object_key))
    return [str(r[0]) for r in rows]


async def object_sessions(conn: AsyncConnection, tenant: str, key: str) -> set[str]:
    """Sessions with a part in one batch object."""
    rows = await conn.execute(select(LedgerAudioSegment.session_id).where(
        LedgerAudioSegment.tenant_id == tenant, LedgerAudioSegment.object_key == key).distinct())
    return {str(r[0]) for r in rows}


async def objects_without_live_parts(conn: AsyncConnection, tenant: str, keys: Sequence[str]
                                     ) -> list[str]:
    """Of these batch objects, those where every part belongs to a session whose key is
    destroyed: nothing in them can be read any more, so they may be deleted."""
    if not keys:
        return []
    live = {str(r[0]) for r in await conn.execute(
        select(LedgerAudioSegment.object_key).join(
            LedgerSession, (LedgerSession.tenant_id == LedgerAudioSegment.tenant_id)
            & (LedgerSession.session_id == LedgerAudioSegment.session_id))
        .where(LedgerAudioSegment.tenant_id == tenant,
               LedgerAudioSegment.object_key.in_(list(keys)),
               LedgerSession.wrapped_dek.is_not(None)).distinct())}
    return [k for k in keys if k not in live]


async def sessions(conn: AsyncConnection, tenant: str, session: str | None = None
                   ) -> Sequence[Any]:
    stmt = select(*LedgerSession.__table__.c).where(LedgerSession.tenant_id == tenant).order_by(
        LedgerSession.session_id)
    if session is not None:
        stmt = stmt.where(LedgerSession.session_id == session)
    return (await conn.execute(stmt)).all()


async def seq_gaps(conn: AsyncConnection, tenant: str, session: str, upto: int
                   ) -> list[tuple[int, int]]:
    """Missing seq ranges ``[first, last]`` in ``0..upto`` (window over the sealed seqs)."""
    rows = await conn.execute(text(
        "SELECT prev + 1 AS first, seq - 1 AS last FROM ("
        "  SELECT seq, lag(seq, 1, -1::bigint) OVER (ORDER BY seq) AS prev FROM ("
        "    SELECT DISTINCT seq FROM ledger_entries WHERE tenant_id = :t AND session_id = :s"
        "    UNION SELECT :upto + 1) d) w "
        "WHERE seq > prev + 1 ORDER BY first"), {"t": tenant, "s": session, "upto": upto})
    return [(r[0], r[1]) for r in rows]


async def entry_count(conn: AsyncConnection, tenant: str, session: str) -> int:
    return int((await conn.execute(select(func.count()).select_from(E).where(
        E.tenant_id == tenant, E.session_id == session))).scalar_one())


# Canonical recorded_at (leaf.canonical_time) formatted by the server: one less Python datetime
# per entry on the verify path.
_FAST_ENTRIES = (
    "SELECT position, event_id, session_id, seq, schema_version, provider, direction, type, "
    "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), mono_ns, "
    "payload_ct, payload_sha256, audio_sha256, leaf_hash FROM ledger_entries "
    "WHERE tenant_id = %s AND position >= %s ORDER BY position LIMIT %s")


async def scan_entries(conn: AsyncConnection, tenant: str, start: int = 0, chunk: int = 50000
                       ) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Entries from ``start`` in position order as plain tuples, keyset-paged in chunks on the
    caller's transaction (verify's snapshot), the next chunk fetched while the caller works on
    the current one. Client-side cursors in binary: about twice a server-side cursor's rate."""
    raw = await conn.get_raw_connection()
    pg: Any = raw.driver_connection

    async def fetch(after: int) -> list[tuple[Any, ...]]:
        async with pg.cursor(binary=True) as cur:
            await cur.execute(_FAST_ENTRIES, (tenant, after, chunk))
            return list(await cur.fetchall())

    rows = await fetch(start)
    while rows:
        nxt = asyncio.ensure_future(fetch(rows[-1][0] + 1)) if len(rows) == chunk else None
        yield rows
        rows = await nxt if nxt is not None else []


async def leaf_hashes(conn: AsyncConnection, tenant: str, size: int) -> list[bytes]:
    """The first ``size`` sealed leaf hashes in position order (proofs against a checkpoint)."""
    rows = await conn.execute(select(E.leaf_hash).where(E.tenant_id == tenant, E.position < size)
                              .order_by(E.position))
    return [bytes(r[0]) for r in rows]


stored_leaves = leaf_hashes  # ``verify --since``: the sealed leaves, not recomputed


async def session_entries(conn: AsyncConnection, tenant: str, session: str) -> Sequence[Any]:
    """One session's entries in position order (stream order: what every consumer received)."""
    return (await conn.execute(
        select(E.position, E.event_id, E.session_id, E.seq, E.stream_seq, E.schema_version,
               E.provider, E.direction, E.type, E.recorded_at, E.mono_ns, E.payload_ct)
        .where(E.tenant_id == tenant, E.session_id == session).order_by(E.position))).all()
