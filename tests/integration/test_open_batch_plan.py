"""The sealer's ``open_batch`` looks each event id up through the unique index, whatever the
statistics say of the tenant. On tables shaped like the ledger's (copies with the same indexes,
analysed while they held three tenants), a tenant that is newer than the ``ANALYZE`` is estimated
at one row: the id probe written with the tenant as a literal was then planned as a scan of the
tenant's entries filtered by id (a batch of 2,000 ids took 2.8 s once the tenant held 20,000
entries), or the pair probe through the unique ``(tenant_id, event_id)`` index (which of two
equal-cost plans Postgres takes varies). The statement as the sealer sends it must probe each id
and each pair through the index whose columns it binds."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from services.ledger.batch_repository import _OPEN_BATCH

pytestmark = pytest.mark.integration

TABLES = ("ledger_trees", "ledger_sessions", "ledger_entries")
PARAMS = {"tenant": "t-new-since-analyze", "sessions": ["s1"], "event_ids": ["e1", "e2"],
          "pair_sessions": ["s1", "s1"], "pair_seqs": [1, 2]}


def _plan(conn: Any, sql: str) -> str:
    for table in TABLES:
        sql = sql.replace(f" {table}", f" probe_{table}")
    rows = conn.execute(text("EXPLAIN " + sql), PARAMS).scalars().all()
    return "\n".join(rows)


def test_the_id_probe_uses_the_unique_index_for_a_tenant_newer_than_the_statistics(
        sync_engine: Any) -> None:
    with sync_engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"CREATE TEMP TABLE probe_{table} (LIKE {table} INCLUDING ALL) "
                              "ON COMMIT DROP"))
        conn.execute(text("""
            INSERT INTO probe_ledger_entries
              (tenant_id, position, event_id, session_id, seq, stream_seq, schema_version,
               provider, direction, type, recorded_at, mono_ns, payload_ct, payload_sha256,
               audio_sha256, leaf_hash)
            SELECT 'old-' || (n % 3), n, 'ev-' || n, 'sess-' || (n % 40), n, n, 1, 'openai',
                   'caller', 'input_audio_buffer.append', now(), n, '\\x00', '\\x00', '\\x00',
                   '\\x00'
              FROM generate_series(1, 30000) AS n"""))
        conn.execute(text("ANALYZE probe_ledger_entries"))
        # The statement as the sealer sends it: each id and each pair through the index whose
        # columns it binds, nothing filtered.
        plan = _plan(conn, _OPEN_BATCH.text)
        probes = [line for line in plan.splitlines()
                  if "event_id = b.event_id" in line or "seq = b" in line]
        assert len(probes) == 2 and all("Index Cond" in line for line in probes), plan
        assert "Filter: (((session_id)" not in plan and "Filter: ((event_id)" not in plan, plan
        # The probes with the tenant as a literal: the plan this guards against (one of them
        # scans the tenant's entries through the other index and filters).
        literal = _OPEN_BATCH.text.replace("(SELECT CAST(:tenant AS text))", ":tenant")
        assert literal.count(":tenant") == _OPEN_BATCH.text.count(":tenant")
        old = _plan(conn, literal)
        assert any(line.strip().startswith("Filter:") and ("b.event_id" in line or "b_1.seq" in line)
                   for line in old.splitlines()), old


def test_pairs_above_the_sessions_max_seq_are_not_probed_even_without_statistics(
        sync_engine: Any) -> None:
    """On tables never analysed (a fresh database until autovacuum's first ``ANALYZE``, minutes
    in), Postgres answered the pair probe through the unique ``(tenant_id, event_id)`` index,
    scanning the tenant's entries per pair: 79 ms for a batch of 73 events once the tenant held
    1,459 (``make bench --quick`` on a fresh stack, auto_explain). A pair above its session's
    ``max_seq`` cannot be sealed yet, and live batches hold nothing else: those are not probed.
    Pairs at or below it still are, whatever the plan."""
    tenant, n = "t-fresh", 1500
    with sync_engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"CREATE TEMP TABLE probe_{table} (LIKE {table} INCLUDING ALL) "
                              "ON COMMIT DROP"))
        conn.execute(text("INSERT INTO probe_ledger_trees (tenant_id, size, frontier, root, "
                          "checkpoint_size) VALUES (:t, :n, '\\x', '\\x', 0)"),
                     {"t": tenant, "n": n})
        conn.execute(text("""
            INSERT INTO probe_ledger_sessions (tenant_id, session_id, wrapped_dek, entries,
              max_seq, missing, duplicates, seq_conflicts, out_of_order, audio_bytes, started,
              ended)
            VALUES (:t, 's1', '\\x00', :n, :m, 0, 0, 0, 0, 0, true, false)"""),
                     {"t": tenant, "n": n, "m": n - 1})
        conn.execute(text("""
            INSERT INTO probe_ledger_entries
              (tenant_id, position, event_id, session_id, seq, stream_seq, schema_version,
               provider, direction, type, recorded_at, mono_ns, payload_ct, payload_sha256,
               audio_sha256, leaf_hash)
            SELECT :t, n, 'ev-' || n, 's1', n, n, 1, 'openai', 'caller',
                   'input_audio_buffer.append', now(), n, '\\x00', '\\x00', '\\x00', '\\x00'
              FROM generate_series(0, :m) AS n"""), {"t": tenant, "m": n - 1})
        sql = _OPEN_BATCH.text
        for table in TABLES:
            sql = sql.replace(f" {table}", f" probe_{table}")
        live = {"tenant": tenant, "sessions": ["s1"], "event_ids": ["new-1", "new-2"],
                "pair_sessions": ["s1", "s1"], "pair_seqs": [n, n + 1]}
        plan = "\n".join(conn.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql), live)
                         .scalars().all())
        assert "Rows Removed by Filter" not in plan, plan
        row = conn.execute(text(sql), live).one()
        assert row.seqs is None and row.known is None
        replayed = {**live, "event_ids": ["ev-7", "other"], "pair_seqs": [7, n]}
        row = conn.execute(text(sql), replayed).one()
        assert row.known == ["ev-7"] and (row.seq_sessions, row.seqs) == (["s1"], [7])
