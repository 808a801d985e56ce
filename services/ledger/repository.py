"""SQL of the sealer (write side). Every function runs inside the caller's transaction.
A sealed batch's own statements are merged in ``batch_repository.py``, which reuses these.

Bulk rows go through ``COPY`` on the SQLAlchemy connection's own driver connection, so they share
the batch transaction with the tree, the session rows and the consumer progress row. Entry rows
(one per sealed event, the hottest write) go in binary: asyncpg's ``copy_records_to_table`` on
the asyncpg engine ``voxledger run`` gives the sealer, psycopg's binary ``COPY`` on a psycopg
engine (``bench/ledger_copy.py``; README "The sealer's write path").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.frontier import Frontier
from services.ledger.models import (
    LedgerAudioSegment,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerSession,
    LedgerSubject,
    LedgerTree,
    LedgerWormOutbox,
)
from services.ledger.sealing import SessionDelta

ENTRY_TABLE = LedgerEntry.__tablename__
ENTRY_COLUMNS = ("tenant_id", "position", "event_id", "session_id", "seq", "stream_seq",
                 "schema_version", "provider", "direction", "type", "recorded_at", "mono_ns",
                 "payload_ct", "payload_sha256", "audio_sha256", "leaf_hash")
# Binary COPY sends each value in the column type's own wire format, so the types are named
# exactly (one per ENTRY_COLUMNS entry; a mismatch fails the batch, never stores a wrong value).
ENTRY_TYPES = ("varchar", "int8", "varchar", "varchar", "int8", "int8", "int2", "varchar",
               "varchar", "varchar", "timestamptz", "int8", "bytea", "bytea", "bytea", "bytea")
_entry_values = itemgetter(*ENTRY_COLUMNS)
REF_COLUMNS = ("tenant_id", "position", "ordinal", "session_id", "segment_key", "offset",
               "length", "sha256")


@dataclass
class TreeState:
    tenant_id: str
    frontier: Frontier
    checkpoint_size: int
    checkpoint_at: datetime | None


@dataclass(frozen=True)
class SessionState:
    wrapped_dek: bytes | None
    max_seq: int


_t = LedgerTree.__table__.c
_LOCK_TREE = (select(_t.frontier, _t.checkpoint_size, _t.checkpoint_at)
              .where(_t.tenant_id == bindparam("tenant")).with_for_update())
_SAVE_TREE = (update(LedgerTree).where(_t.tenant_id == bindparam("tenant"))
              .values(size=bindparam("size"), frontier=bindparam("frontier"),
                      root=bindparam("root"), checkpoint_size=bindparam("checkpoint_size"),
                      checkpoint_at=bindparam("checkpoint_at"), updated_at=func.now()))


async def lock_tree(conn: AsyncConnection, tenant: str) -> TreeState:
    """The tenant's tree, row-locked: positions are assigned by one transaction at a time."""
    row = (await conn.execute(_LOCK_TREE, {"tenant": tenant})).first()
    if row is None:  # the tenant's first batch (every later one finds its row: one statement)
        empty = Frontier()
        await conn.execute(pg_insert(LedgerTree).values(
            tenant_id=tenant, size=0, frontier=empty.to_bytes(), root=empty.root(),
            checkpoint_size=0).on_conflict_do_nothing())
        row = (await conn.execute(_LOCK_TREE, {"tenant": tenant})).one()
    return TreeState(tenant, Frontier.from_bytes(row.frontier), row.checkpoint_size,
                     row.checkpoint_at)


async def save_tree(conn: AsyncConnection, tree: TreeState) -> None:
    await conn.execute(_SAVE_TREE, {
        "tenant": tree.tenant_id, "size": tree.frontier.size, "frontier": tree.frontier.to_bytes(),
        "root": tree.frontier.root(), "checkpoint_size": tree.checkpoint_size,
        "checkpoint_at": tree.checkpoint_at})


async def lock_sessions(conn: AsyncConnection, tenant: str, session_ids: Iterable[str],
                        new_wrapped_dek: Callable[[str], bytes]) -> dict[str, SessionState]:
    ids = sorted(set(session_ids))
    if not ids:
        return {}
    found = await _select_sessions(conn, tenant, ids)
    missing = [s for s in ids if s not in found]
    if missing:
        await conn.execute(pg_insert(LedgerSession).values([
            {"tenant_id": tenant, "session_id": s, "wrapped_dek": new_wrapped_dek(s)}
            for s in missing]).on_conflict_do_nothing())
        found.update(await _select_sessions(conn, tenant, missing))
    return found


# ``FOR NO KEY UPDATE``: exclusive against key destruction (which takes ``FOR UPDATE``) and any
# other sealer, but not against the projections' ``FOR KEY SHARE`` reads of the same rows: with
# ``FOR UPDATE`` every sealed batch waited for the followers' open transactions on its sessions
# (the sealer's most sampled wait in pg_stat_activity at 18 live sessions).
_SELECT_SESSIONS = text(
    "SELECT session_id, wrapped_dek, max_seq FROM ledger_sessions "
    "WHERE tenant_id = :tenant AND session_id = ANY(CAST(:ids AS text[])) "
    "ORDER BY session_id FOR NO KEY UPDATE")


async def _select_sessions(conn: AsyncConnection, tenant: str, ids: list[str]
                           ) -> dict[str, SessionState]:
    rows = await conn.execute(_SELECT_SESSIONS, {"tenant": tenant, "ids": ids})
    return {r.session_id: SessionState(r.wrapped_dek, r.max_seq) for r in rows}


async def _driver(conn: AsyncConnection) -> Any:
    return (await conn.get_raw_connection()).driver_connection


async def copy_rows_text(conn: AsyncConnection, table: str, columns: Sequence[str],
                         rows: Sequence[dict[str, Any]]) -> None:
    """Text-format ``COPY`` in the caller's transaction (binary on an asyncpg connection)."""
    if not rows:
        return
    driver = await _driver(conn)
    values = itemgetter(*columns)  # a row's values in column order (one C call per row)
    if isinstance(driver, asyncpg.Connection):
        await driver.copy_records_to_table(
            table, records=[values(row) for row in rows], columns=columns)
        return
    cols = ", ".join(f'"{c}"' for c in columns)
    async with driver.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            await copy.write_row(values(row))


async def copy_entries(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """The batch's entry rows by binary ``COPY`` in the caller's transaction: asyncpg's
    ``copy_records_to_table`` when the engine runs on asyncpg, psycopg's otherwise."""
    if not rows:
        return
    driver = await _driver(conn)
    if isinstance(driver, asyncpg.Connection):
        await driver.copy_records_to_table(
            ENTRY_TABLE, records=[_entry_values(row) for row in rows], columns=ENTRY_COLUMNS)
        return
    cols = ", ".join(f'"{c}"' for c in ENTRY_COLUMNS)
    async with driver.cursor() as cur, cur.copy(
            f"COPY {ENTRY_TABLE} ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(ENTRY_TYPES)
        for row in rows:
            await copy.write_row(_entry_values(row))


SEGMENT_COLUMNS = ("key", "tenant_id", "session_id", "direction", "first_position", "length",
                   "ct_sha256", "object_key", "object_offset", "object_length", "codec")
# One statement text for any number of rows (a multi-row VALUES is compiled anew for every
# row count: it was about a tenth of the sealer's CPU at 6 live sessions). A retried batch
# may reuse a key an uncommitted attempt never recorded; last write wins.
SEGMENTS_UPSERT_SQL = f"""
INSERT INTO {LedgerAudioSegment.__tablename__} ({", ".join(SEGMENT_COLUMNS)})
SELECT * FROM unnest(CAST(:seg_key AS text[]), CAST(:seg_tenant_id AS text[]),
                     CAST(:seg_session_id AS text[]), CAST(:seg_direction AS text[]),
                     CAST(:seg_first_position AS bigint[]), CAST(:seg_length AS bigint[]),
                     CAST(:seg_ct_sha256 AS bytea[]), CAST(:seg_object_key AS text[]),
                     CAST(:seg_object_offset AS bigint[]), CAST(:seg_object_length AS bigint[]),
                     CAST(:seg_codec AS text[]))
ON CONFLICT (key) DO UPDATE SET length = excluded.length, ct_sha256 = excluded.ct_sha256,
  object_key = excluded.object_key, object_offset = excluded.object_offset,
  object_length = excluded.object_length, codec = excluded.codec
"""
def segment_columns(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    return {f"seg_{c}": [r[c] for r in rows] for c in SEGMENT_COLUMNS}


async def insert_subjects(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(pg_insert(LedgerSubject).values(list(rows)).on_conflict_do_nothing())


# One statement for every session of a batch (was two UPDATEs per session, each compiled anew).
# SET expressions see the row as it was, so ``missing`` is computed from the new values: seqs
# expected 0..max(max_seq, declared last), present = distinct seqs sealed.
SESSIONS_UPDATE_SQL = """
UPDATE ledger_sessions AS t SET
  duplicates = t.duplicates + d.duplicates,
  seq_conflicts = t.seq_conflicts + d.conflicts,
  entries = t.entries + d.entries,
  first_position = coalesce(t.first_position, d.first_position),
  last_position = greatest(t.last_position, d.last_position),
  max_seq = greatest(t.max_seq, d.max_seq),
  out_of_order = t.out_of_order + d.out_of_order,
  audio_bytes = t.audio_bytes + d.audio_bytes,
  last_event_at = greatest(t.last_event_at, d.last_event_at),
  started = t.started OR d.started,
  ended = t.ended OR d.ended,
  last_seq_declared = CASE WHEN d.ended THEN d.last_seq_declared ELSE t.last_seq_declared END,
  end_reason = CASE WHEN d.ended THEN d.end_reason ELSE t.end_reason END,
  timed_out_at = CASE WHEN d.ended THEN NULL ELSE t.timed_out_at END,
  updated_at = now(),
  missing = greatest(0, greatest(greatest(t.max_seq, d.max_seq), coalesce(
      CASE WHEN d.ended THEN d.last_seq_declared ELSE t.last_seq_declared END, -1))
    + 1 - ((t.entries + d.entries) - (t.seq_conflicts + d.conflicts)))
FROM unnest(CAST(:session AS text[]), CAST(:duplicates AS bigint[]),
            CAST(:conflicts AS bigint[]), CAST(:entries AS bigint[]),
            CAST(:first_position AS bigint[]), CAST(:last_position AS bigint[]),
            CAST(:max_seq AS bigint[]), CAST(:out_of_order AS bigint[]),
            CAST(:audio_bytes AS bigint[]), CAST(:last_event_at AS timestamptz[]),
            CAST(:started AS boolean[]), CAST(:ended AS boolean[]),
            CAST(:last_seq_declared AS bigint[]), CAST(:end_reason AS text[]))
  AS d(session_id, duplicates, conflicts, entries, first_position, last_position, max_seq,
       out_of_order, audio_bytes, last_event_at, started, ended, last_seq_declared, end_reason)
WHERE t.tenant_id = :tenant AND t.session_id = d.session_id
  AND t.session_id = ANY(CAST(:session AS text[]))
"""
# The last condition repeats the join's: it makes the rows' scan the primary key's lookup of
# these sessions whatever the planner believes of the tenant (a tenant newer than the table's
# statistics is estimated at one row, and a join would then read all of its sessions).
_UPDATE_SESSIONS = text(SESSIONS_UPDATE_SQL)


_SESSION_DELTA = ("session", "duplicates", "conflicts", "entries", "first_position",
                  "last_position", "max_seq", "out_of_order", "audio_bytes", "last_event_at",
                  "started", "ended", "last_seq_declared", "end_reason")


def session_columns(changes: Sequence[tuple[str, SessionDelta | None, int, int]]
                     ) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {k: [] for k in _SESSION_DELTA}
    for session, d, duplicates, conflicts in changes:
        d = d or SessionDelta()
        for key, value in (
                ("session", session), ("duplicates", duplicates), ("conflicts", conflicts),
                ("entries", d.entries), ("first_position", d.first_position),
                ("last_position", d.last_position), ("max_seq", d.max_seq),
                ("out_of_order", d.out_of_order), ("audio_bytes", d.audio_bytes),
                ("last_event_at", d.last_event_at), ("started", d.started),
                ("ended", d.ended), ("last_seq_declared", d.last_seq_declared),
                ("end_reason", d.end_reason)):
            cols[key].append(value)
    return cols


async def update_sessions(conn: AsyncConnection, tenant: str,
                          changes: Sequence[tuple[str, SessionDelta | None, int, int]]) -> None:
    """Apply each (session, delta or None, duplicates, seq conflicts) of a batch at once."""
    if not changes:
        return
    await conn.execute(_UPDATE_SESSIONS, {"tenant": tenant, **session_columns(changes)})


# The checkpoint and its outbox row in one statement (the outbox row, not the append-only
# checkpoint, records that the WORM copy is pending).
_INSERT_CHECKPOINT = text("""
WITH checkpoint AS (
  INSERT INTO ledger_checkpoints (tenant_id, size, root, note, reason, worm_key)
  VALUES (:tenant, :size, :root, :note, :reason, :worm_key) ON CONFLICT DO NOTHING
)
INSERT INTO ledger_worm_outbox (tenant_id, size) VALUES (:tenant, :size) ON CONFLICT DO NOTHING
""")


async def insert_checkpoint(conn: AsyncConnection, tenant: str, size: int, root: bytes,
                            note: str, reason: str, worm_key: str) -> None:
    await conn.execute(_INSERT_CHECKPOINT, {"tenant": tenant, "size": size, "root": root,
                                            "note": note, "reason": reason,
                                            "worm_key": worm_key})


async def pending_worm(conn: AsyncConnection, limit: int = 100) -> list[tuple[str, int, str, str]]:
    o, c = LedgerWormOutbox, LedgerCheckpoint
    rows = await conn.execute(
        select(c.tenant_id, c.size, c.worm_key, c.note)
        .join(o, (o.tenant_id == c.tenant_id) & (o.size == c.size))
        .order_by(o.created_at).limit(limit))
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def mark_worm_written(conn: AsyncConnection, tenant: str, size: int) -> None:
    await conn.execute(delete(LedgerWormOutbox).where(
        LedgerWormOutbox.tenant_id == tenant, LedgerWormOutbox.size == size))


async def stale_tenants(conn: AsyncConnection, cadence_s: float) -> list[str]:
    """Tenants with entries past their last checkpoint, the last one older than ``cadence_s``."""
    rows = await conn.execute(
        select(LedgerTree.tenant_id).where(
            LedgerTree.size > LedgerTree.checkpoint_size,
            func.coalesce(LedgerTree.checkpoint_at, LedgerTree.updated_at)
            < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, bindparam("cadence")))
        .order_by(LedgerTree.tenant_id), {"cadence": cadence_s})
    return [r[0] for r in rows]


async def mark_timed_out(conn: AsyncConnection, timeout_s: float) -> int:
    """Law 2: a session with no ``session.ended`` after the idle timeout is recorded as such."""
    t = LedgerSession
    result = await conn.execute(update(t).where(
        t.ended.is_(False), t.timed_out_at.is_(None), ~t.session_id.startswith("_"),
        t.last_event_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, bindparam("timeout")),
    ).values(timed_out_at=func.now()), {"timeout": timeout_s})
    return int(result.rowcount or 0)


# Projections (services/ledger/follower.py) listen here; the payload is the tenant whose ledger
# grew. Sent by batch_repository.finish_batch, so on commit only (dropped on rollback).
NOTIFY_CHANNEL = "voxledger_sealed"
