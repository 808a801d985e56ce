"""SQL of one sealed batch: a statement before ``plan_batch`` and one after the entry rows' COPY.

Every statement of a batch is a round trip on the batch's critical path (publish→sealed lag is
the sealer's wall time per batch, not its CPU), so the per-batch statements are merged:

* :func:`open_batch`, one statement: lock the tenant's tree row, then the batch's session rows
  (``FOR NO KEY UPDATE``, in session order: the lock order of ``repository.lock_tree`` then
  ``repository.lock_sessions``, which the journal and key destruction rely on), and read which
  event ids and which (session, seq) pairs are already sealed. The session rows are read in a
  ``LATERAL`` subquery that references the tree row, so they are locked only once the tree row
  is: a plain join could lock them first and deadlock against another sealer of the tenant.
* :func:`finish_batch`, one statement of data-modifying CTEs: the audio index rows, the audio
  parts, the session counters, the tree row, the ``pg_notify`` that wakes the projections
  when the transaction commits, and (the consumer's last tenant of a batch) the consumer's
  progress row (``services/platform/consumer.py`` ``ProgressStep``), so the consumer adds no
  statement of its own.

Both keep their plans whatever the table's statistics say of the tenant: a tenant newer than the
last ``ANALYZE`` is estimated at one row, and ``tenant_id = :t AND event_id = ANY(:ids)`` was
then planned as a scan of all of the tenant's entries filtered by id (10 ms a batch once the
tenant held 40,000 entries, growing with it). Each id and each pair is now looked up on its own
through a ``LATERAL ... LIMIT 1``, and each session row through its primary key. The id
probe names the tenant through a scalar subquery, so the planner does not know the value: with
the tenant's own estimate (one row when it is newer than the last ``ANALYZE``), scanning the
tenant's entries through ``(tenant_id, session_id, seq)`` and filtering by id cost the same as
the unique index's one row, and Postgres took the scan, per id: a batch of 2,000 ids took 0.2 s
after 2,000 entries and 2.8 s after 20,000 (``make bench``'s backlog, a new tenant each step).
With the value unknown, the tenant is estimated at a share of the table and only the unique
``(tenant_id, event_id)`` index answers one id in one row. The pair probe is written the same
way, for the mirror case (the unique index scanned for a pair: which of two equal-cost plans
Postgres takes is not ours to count on; ``tests/integration/test_open_batch_plan.py``).
On tables never analysed (a fresh database, until autovacuum's first ``ANALYZE`` minutes in)
that was not enough: every equality has the default selectivity, and Postgres answered the pair
probe through the unique ``(tenant_id, event_id)`` index, scanning the tenant's entries once per
pair (79 ms for a 73-event batch at 1,459 entries; Postgres at ~1 ms of CPU per event in a fresh
stack's first bench). So only pairs at or below their session's ``max_seq`` are probed: a pair
above it cannot be sealed yet, and a live batch, whose seqs follow the session's, holds no other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.frontier import Frontier
from services.ledger.repository import (
    NOTIFY_CHANNEL,
    REF_COLUMNS,
    SEGMENTS_UPSERT_SQL,
    SESSIONS_UPDATE_SQL,
    SessionState,
    TreeState,
    lock_sessions,
    lock_tree,
    segment_columns,
    session_columns,
)
from services.ledger.sealing import SessionDelta
from services.platform.consumer import PROGRESS_CTE_SQL, ProgressStep, check_advanced


@dataclass
class OpenBatch:
    tree: TreeState
    sessions: dict[str, SessionState]
    known_ids: set[str]  # event ids already sealed
    known_seqs: set[tuple[str, int]]  # (session, seq) pairs already sealed


_OPEN_BATCH = text("""
SELECT t.frontier, t.checkpoint_size, t.checkpoint_at,
       s.ids, s.deks, s.max_seqs, k.known, q.sessions AS seq_sessions, q.seqs
  FROM (SELECT frontier, checkpoint_size, checkpoint_at FROM ledger_trees
         WHERE tenant_id = :tenant FOR UPDATE) AS t
 CROSS JOIN LATERAL (
       SELECT array_agg(x.session_id) AS ids, array_agg(x.wrapped_dek) AS deks,
              array_agg(x.max_seq) AS max_seqs
         FROM (SELECT session_id, wrapped_dek, max_seq FROM ledger_sessions
                WHERE tenant_id = :tenant AND session_id = ANY(CAST(:sessions AS text[]))
                  AND t.checkpoint_size IS NOT NULL
                ORDER BY session_id FOR NO KEY UPDATE) AS x) AS s
 CROSS JOIN LATERAL (
       SELECT array_agg(b.event_id) AS known
         FROM unnest(CAST(:event_ids AS text[])) AS b(event_id)
        CROSS JOIN LATERAL (SELECT 1 FROM ledger_entries e
                             WHERE e.tenant_id = (SELECT CAST(:tenant AS text))
                               AND e.event_id = b.event_id
                             LIMIT 1) AS hit) AS k
 CROSS JOIN LATERAL (
       SELECT array_agg(b.session_id) AS sessions, array_agg(b.seq) AS seqs
         FROM unnest(CAST(:pair_sessions AS text[]), CAST(:pair_seqs AS bigint[]))
              AS b(session_id, seq)
         JOIN ledger_sessions m ON m.tenant_id = :tenant AND m.session_id = b.session_id
                               AND b.seq <= m.max_seq
        CROSS JOIN LATERAL (SELECT 1 FROM ledger_entries e
                             WHERE e.tenant_id = (SELECT CAST(:tenant AS text))
                               AND e.session_id = b.session_id
                               AND e.seq = b.seq LIMIT 1) AS hit) AS q
""")


async def open_batch(conn: AsyncConnection, tenant: str, event_ids: Sequence[str],
                     pairs: Sequence[tuple[str, int]], sessions: Sequence[str]
                     ) -> OpenBatch | None:
    """The tenant's tree and ``sessions``' rows, locked, with the ids and pairs already sealed;
    None when the tenant has no tree row yet (its first batch: :func:`open_batch_slowly`)."""
    unique = sorted(set(pairs))
    row = (await conn.execute(_OPEN_BATCH, {
        "tenant": tenant, "sessions": sorted(set(sessions)), "event_ids": list(event_ids),
        "pair_sessions": [p[0] for p in unique], "pair_seqs": [p[1] for p in unique]})).first()
    if row is None:
        return None
    tree = TreeState(tenant, Frontier.from_bytes(row.frontier), row.checkpoint_size,
                     row.checkpoint_at)
    found = {s: SessionState(d, m) for s, d, m in zip(
        row.ids or (), row.deks or (), row.max_seqs or (), strict=True)}
    return OpenBatch(tree, found, set(row.known or ()),
                     set(zip(row.seq_sessions or (), row.seqs or (), strict=True)))


async def open_batch_slowly(conn: AsyncConnection, tenant: str, event_ids: Sequence[str],
                            pairs: Sequence[tuple[str, int]], sessions: Sequence[str]
                            ) -> OpenBatch:
    """:func:`open_batch` for a tenant without a tree row: create it (``lock_tree``), then the
    one statement again."""
    await lock_tree(conn, tenant)
    opened = await open_batch(conn, tenant, event_ids, pairs, sessions)
    if opened is None:
        raise RuntimeError("the tenant's tree row vanished inside its own transaction")
    return opened


async def add_sessions(conn: AsyncConnection, opened: OpenBatch, tenant: str,
                       sessions: Sequence[str], new_wrapped_dek: Callable[[str], bytes]) -> None:
    """Create (with a fresh wrapped key) and lock the session rows the batch is the first of."""
    missing = sorted(set(sessions) - set(opened.sessions))
    if missing:
        opened.sessions.update(await lock_sessions(conn, tenant, missing, new_wrapped_dek))


_FINISH_BATCH_SQL = f"""
WITH refs AS (
  INSERT INTO ledger_audio_refs ({", ".join(f'"{c}"' for c in REF_COLUMNS)})
  SELECT * FROM unnest(CAST(:ref_tenant_id AS text[]), CAST(:ref_position AS bigint[]),
                       CAST(:ref_ordinal AS integer[]), CAST(:ref_session_id AS text[]),
                       CAST(:ref_segment_key AS text[]), CAST(:ref_offset AS bigint[]),
                       CAST(:ref_length AS bigint[]), CAST(:ref_sha256 AS bytea[]))
), segments AS ({SEGMENTS_UPSERT_SQL}
), sessions AS ({SESSIONS_UPDATE_SQL}
), tree AS (
  UPDATE ledger_trees SET size = :size, frontier = :frontier, root = :root,
         checkpoint_size = :checkpoint_size, checkpoint_at = :checkpoint_at, updated_at = now()
   WHERE tenant_id = :tenant
)"""
_NOTIFY_SQL = "\nSELECT CASE WHEN :notify THEN pg_notify(:channel, :tenant) END"
_FINISH_BATCH = text(_FINISH_BATCH_SQL + _NOTIFY_SQL)
_FINISH_BATCH_ADVANCE = text(_FINISH_BATCH_SQL + f""", progress AS ({PROGRESS_CTE_SQL}
){_NOTIFY_SQL}, (SELECT count(*) FROM progress)""")


async def finish_batch(conn: AsyncConnection, tree: TreeState, audio_refs: Sequence[dict[str, Any]],
                       segments: Sequence[dict[str, Any]],
                       changes: Sequence[tuple[str, SessionDelta | None, int, int]],
                       notify: bool, progress: ProgressStep | None = None) -> None:
    """Write the batch's audio index, audio parts, session counters and tree in one statement;
    ``notify``: tell the projections the tenant's ledger grew (sent on commit); ``progress``:
    move the consumer's progress row too (or raise ``StaleProgress``)."""
    refs = {f"ref_{c}": [r[c] for r in audio_refs] for c in REF_COLUMNS}
    row = (await conn.execute(_FINISH_BATCH if progress is None else _FINISH_BATCH_ADVANCE, {
        "tenant": tree.tenant_id, "size": tree.frontier.size,
        "frontier": tree.frontier.to_bytes(), "root": tree.frontier.root(),
        "checkpoint_size": tree.checkpoint_size, "checkpoint_at": tree.checkpoint_at,
        "notify": notify, "channel": NOTIFY_CHANNEL,
        **refs, **segment_columns(segments), **session_columns(changes),
        **(progress.params() if progress is not None else {})})).one()
    if progress is not None:
        check_advanced(int(row[1]))
