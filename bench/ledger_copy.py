"""The sealer's hottest write, ``ledger_entries`` rows, three ways (a measurement, not a test).

    .venv/bin/python bench/ledger_copy.py [--rows 500] [--batches 40] [--rounds 3]

The rows are the sealer's own: the benchmark's OpenAI GA session (``plan_session``: 20 ms PCM16
frames both ways) through ``plan_batch`` (real AES-GCM payloads, leaf hashes, audio replaced by
references). Each batch of ``--rows`` goes into ``ledger_entries`` inside one transaction that is
then rolled back (the table is append-only, and every method pays the same commit), by:

- ``psycopg-text``: the sealer's path before this bench (``COPY ... FROM STDIN``, text format,
  ``write_row`` on the SQLAlchemy connection's psycopg driver connection);
- ``psycopg-binary``: the same connection, ``COPY ... (FORMAT BINARY)`` with ``set_types``;
- ``asyncpg``: ``copy_records_to_table`` (binary) on its own asyncpg connection, which cannot
  join the SQLAlchemy/psycopg transaction the sealer's batch runs in.

Methods are interleaved batch by batch, so drift of the shared machine hits all of them alike.
Prints wall ms and client CPU ms per 1,000 rows, and the Postgres server's CPU over each method's
batches (its backends are the postmaster's children), on the stack of ``.voxledger/env``.

``--sealer``: the whole of the sealer's batch instead (``Sealer.handle``: locks, dedupe reads,
``plan_batch``, S3 segment puts, COPY, session and tree updates, a checkpoint), rolled back, on
a psycopg engine (binary COPY) vs an asyncpg engine (``copy_records_to_table`` inside the same
SQLAlchemy transaction): what adopting asyncpg for the sealer would change end to end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import psutil

from schemas.envelope import Direction, Envelope, Provider, subject_for
from services.bench.load import plan_session
from services.ledger import repository as repo
from services.ledger.sealer import Sealer, make_sealer
from services.ledger.sealing import Fresh, plan_batch
from services.platform.db import database_url, make_async_engine
from services.platform.intake import Delivered
from services.platform.keys import new_dek
from services.platform.settings import (
    default_home,
    load_settings,
)
from services.platform.stack import Stack


def _uuid7() -> str:
    raw = bytearray(uuid.uuid4().bytes)
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def sealer_rows(tenant: str, count: int) -> list[dict[str, Any]]:
    """``count`` entry rows as the sealer writes them for the benchmark's sessions."""
    frames = [f for f in plan_session("bench:0", 120.0).frames if f.direction != "system"]
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    fresh = []
    for i in range(count):
        f = frames[i % len(frames)]
        fresh.append(Fresh(i + 1, "x", Envelope(
            event_id=_uuid7(), tenant_id=tenant, session_id=f"s-{i // 3000}", seq=i,
            provider=Provider.OPENAI_REALTIME, direction=Direction(f.direction),
            type=str(f.payload.get("type", "x")), recorded_at=t0 + timedelta(milliseconds=i),
            mono_ns=i * 1_000_000, payload=f.payload)))
    deks = {f"s-{i}": new_dek() for i in range(count // 3000 + 1)}
    return plan_batch(tenant, fresh, 0, deks, {}, lambda n: n).entries


def sealer_batch(tenant: str, count: int) -> list[Delivered]:
    """``count`` envelopes of the benchmark's session as the consumer hands them to the sealer."""
    frames = [f for f in plan_session("bench:0", 120.0).frames if f.direction != "system"]
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        f = frames[i % len(frames)]
        env = Envelope(
            event_id=_uuid7(), tenant_id=tenant, session_id="s-0", seq=i,
            provider=Provider.OPENAI_REALTIME, direction=Direction(f.direction),
            type=str(f.payload.get("type", "x")), recorded_at=t0 + timedelta(milliseconds=i),
            mono_ns=i * 1_000_000, payload=f.payload)
        out.append(Delivered(i + 1, subject_for(env), env))
    return out


async def main_sealer(rows: int, batches: int, rounds: int) -> None:
    settings = load_settings()
    tenant = "bench-seal-" + secrets.token_hex(3)
    batch = sealer_batch(tenant, rows)
    engines = {d: make_async_engine(settings, driver=d) for d in ("psycopg", "asyncpg")}
    base = make_sealer(settings)
    sealer = Sealer(settings, base.keys, base.storage, tenant=tenant, signer=base.signer)

    async def run(driver: str) -> None:
        async with engines[driver].connect() as conn, conn.begin() as tx:
            await sealer.handle(conn, batch)
            await tx.rollback()

    for d in engines:
        await run(d)
    cpu: dict[str, list[float]] = {d: [] for d in engines}
    wall: dict[str, list[float]] = {d: [] for d in engines}
    for _ in range(rounds):
        acc = {d: [0.0, 0.0] for d in engines}
        for _ in range(batches):
            for d in engines:
                c0, w0 = time.process_time(), time.perf_counter()
                await run(d)
                acc[d][0] += time.process_time() - c0
                acc[d][1] += time.perf_counter() - w0
        for d, (c, w) in acc.items():
            cpu[d].append(c * 1000 / (rows * batches))
            wall[d].append(w * 1000 / (rows * batches))
    for e in engines.values():
        await e.dispose()
    print(f"Sealer.handle, {rows} events per batch x {batches} batches x {rounds} rounds")
    summary = {}
    for d in engines:
        summary[d] = {"cpu_ms_per_event": round(statistics.median(cpu[d]), 4),
                      "wall_ms_per_event": round(statistics.median(wall[d]), 4),
                      "runs_cpu": [round(x, 4) for x in cpu[d]]}
        print(f"{d:8} {summary[d]['cpu_ms_per_event']:.4f} client CPU ms/event, "
              f"{summary[d]['wall_ms_per_event']:.4f} wall ms/event")
    print(json.dumps(summary))


def _postgres_cpu(pid: int) -> float:
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


async def main(rows: int, batches: int, rounds: int) -> None:
    settings = load_settings()
    pg_pid = next(r.pid for r in Stack(default_home()).status() if r.name == "postgres")
    tenant = "bench-copy-" + secrets.token_hex(3)
    data = sealer_rows(tenant, rows)
    records = [tuple(r[c] for c in repo.ENTRY_COLUMNS) for r in data]
    engine = make_async_engine(settings)
    apg = await asyncpg.connect(database_url(settings).replace("postgresql+psycopg://",
                                                               "postgresql://"))

    async def psycopg(method: Callable[[Any, Any], Awaitable[None]]) -> None:
        async with engine.connect() as conn, conn.begin() as tx:
            await method(conn, data)
            await tx.rollback()

    async def text_copy(conn: Any, rows_: Any) -> None:
        await repo.copy_rows_text(conn, repo.ENTRY_TABLE, repo.ENTRY_COLUMNS, rows_)

    async def binary_copy(conn: Any, rows_: Any) -> None:
        await repo.copy_entries(conn, rows_)

    async def via_asyncpg() -> None:
        tx = apg.transaction()
        await tx.start()
        await apg.copy_records_to_table(repo.ENTRY_TABLE, records=records,
                                        columns=list(repo.ENTRY_COLUMNS))
        await tx.rollback()

    methods: dict[str, Callable[[], Awaitable[None]]] = {
        "psycopg-text": lambda: psycopg(text_copy),
        "psycopg-binary": lambda: psycopg(binary_copy),
        "asyncpg": via_asyncpg,
    }
    for run in methods.values():  # warm up: connections, prepared types, caches
        await run()
    results: dict[str, dict[str, list[float]]] = {
        m: {"wall": [], "cpu": [], "pg": []} for m in methods}
    for _ in range(rounds):
        acc = {m: [0.0, 0.0, 0.0] for m in methods}
        for _ in range(batches):
            for name, run in methods.items():
                pg0, c0, w0 = _postgres_cpu(pg_pid), time.process_time(), time.perf_counter()
                await run()
                w1, c1, pg1 = time.perf_counter(), time.process_time(), _postgres_cpu(pg_pid)
                acc[name][0] += w1 - w0
                acc[name][1] += c1 - c0
                acc[name][2] += pg1 - pg0
        per_k = 1000 * 1000 / (rows * batches)  # seconds per batch set -> ms per 1,000 rows
        for name, (wall, cpu, pg) in acc.items():
            results[name]["wall"].append(wall * per_k)
            results[name]["cpu"].append(cpu * per_k)
            results[name]["pg"].append(pg * per_k)
    await apg.close()
    await engine.dispose()
    print(f"{rows} rows per batch x {batches} batches x {rounds} rounds "
          f"(payload_ct avg {sum(len(r['payload_ct']) for r in data) // len(data)} bytes)")
    print(f"{'method':16} {'wall ms/1k rows':>16} {'client CPU ms/1k':>17} "
          f"{'postgres CPU ms/1k':>19}")
    summary = {}
    for name, r in results.items():
        med = {k: statistics.median(v) for k, v in r.items()}
        summary[name] = {k: round(v, 2) for k, v in med.items()}
        print(f"{name:16} {med['wall']:16.2f} {med['cpu']:17.2f} {med['pg']:19.2f}")
    print(json.dumps(summary))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500, help="rows per batch (the sealer's batch)")
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sealer", action="store_true",
                    help="the sealer's whole batch on psycopg vs asyncpg engines")
    a = ap.parse_args()
    asyncio.run((main_sealer if a.sealer else main)(a.rows, a.batches, a.rounds))
