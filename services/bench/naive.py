"""The baseline: a naive consumer of the same load — one INSERT and one COMMIT per event, no
batching, ack after each message's commits (a batch message's members are inserted and committed
one by one). It validates envelopes like every real consumer (a fair share of the work) and
stores the frame in one row. Its table is the benchmark's own (created here, on the
private stack only; not part of the schema)."""

from __future__ import annotations

import json
import time

from nats.errors import TimeoutError as NatsTimeout
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.batch import is_batch_subject, split_batch
from schemas.envelope import EnvelopeError, decode_envelope
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.roles import WRITER_ROLE, owner_settings
from services.platform.settings import Settings

TABLE = """CREATE TABLE IF NOT EXISTS bench_naive_events (
    tenant_id text NOT NULL, event_id text NOT NULL, session_id text NOT NULL, seq bigint NOT NULL,
    recorded_at timestamptz NOT NULL, type text NOT NULL, payload jsonb NOT NULL,
    PRIMARY KEY (tenant_id, event_id))"""
INSERT = text("INSERT INTO bench_naive_events VALUES (:t, :e, :s, :q, :r, :y, CAST(:p AS jsonb)) "
              "ON CONFLICT DO NOTHING")


async def drain_naive(settings: Settings, engine: AsyncEngine, tenant: str, expected: int,
                      timeout: float = 600) -> tuple[int, float]:
    """Consume ``expected`` events of ``tenant``; returns (events, seconds from first to last)."""
    # The pipeline's role has no DDL (README "Postgres roles"): the owner creates the table and
    # lets the writers use it.
    owner = make_async_engine(owner_settings(settings), pool_size=1)
    try:
        async with owner.begin() as conn:
            await conn.execute(text(TABLE))
            await conn.execute(text(f"GRANT SELECT, INSERT ON bench_naive_events TO {WRITER_ROLE}"))
    finally:
        await owner.dispose()
    nc = await connect(settings, name="voxledger-bench-naive")
    try:
        sub = await nc.jetstream().pull_subscribe(
            f"{settings.subject_prefix}.{tenant}.>", durable=f"bench-naive-{tenant}",
            stream=settings.stream_name)
        done, t0, t_last = 0, 0.0, 0.0
        deadline = time.monotonic() + timeout
        while done < expected and time.monotonic() < deadline:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except (NatsTimeout, TimeoutError):  # nats-py raises either on an empty fetch
                continue
            for msg in msgs:
                if not t0:
                    t0 = time.monotonic()
                try:
                    datas = (split_batch(msg.data, msg.headers)
                             if is_batch_subject(msg.subject) else [msg.data])
                except EnvelopeError:
                    datas = []
                for data in datas:
                    try:
                        env = decode_envelope(data)
                    except EnvelopeError:
                        continue
                    async with engine.begin() as conn:
                        await conn.execute(INSERT, {
                            "t": env.tenant_id, "e": env.event_id, "s": env.session_id,
                            "q": env.seq, "r": env.recorded_at, "y": env.type,
                            "p": json.dumps(env.payload)})
                    done += 1
                await msg.ack()
                t_last = time.monotonic()
        await sub.unsubscribe()
        return done, max(1e-6, t_last - t0)
    finally:
        await nc.close()
