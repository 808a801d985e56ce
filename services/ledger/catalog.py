"""The session catalog consumer: one metadata row per session (tenant, provider, start/end, counts).

Idempotent: each (tenant, session, seq) is counted once, so redelivery changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import Direction
from services.ledger.catalog_models import SessionEventSeen, SessionRow
from services.platform.consumer import Delivered


class SessionCatalog:
    name = "catalog"

    def __init__(self, subject_prefix: str = "voice") -> None:
        # Metadata only: audio frames count as events but their bytes are never needed here.
        self.filter_subjects = [f"{subject_prefix}.>"]

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        sessions: dict[tuple[str, str], dict[str, Any]] = {}
        for d in batch:
            env = d.envelope
            key = (env.tenant_id, env.session_id)
            row = sessions.setdefault(key, {
                "tenant_id": env.tenant_id, "session_id": env.session_id,
                "provider": env.provider.value, "first_seen_at": env.recorded_at,
                "last_seen_at": env.recorded_at, "events": 0, "max_seq": -1,
            })
            row["first_seen_at"] = min(row["first_seen_at"], env.recorded_at)
            row["last_seen_at"] = max(row["last_seen_at"], env.recorded_at)
            if env.direction is Direction.SYSTEM and env.type == "session.started":
                row["started_at"] = env.recorded_at
                provider = env.payload.get("provider")
                if isinstance(provider, str) and len(provider) <= 32:
                    row["provider"] = provider
            if env.direction is Direction.SYSTEM and env.type == "session.ended":
                row["ended_at"] = env.recorded_at
                last = env.payload.get("last_seq")
                row["last_seq_declared"] = last if isinstance(last, int) else None
                reason = env.payload.get("reason")
                row["end_reason"] = reason[:64] if isinstance(reason, str) else None
        # Sessions first (the seen-rows reference them), then count only newly seen events.
        for row in sessions.values():
            stmt = pg_insert(SessionRow).values(**row)
            updates = {
                "first_seen_at": func.least(SessionRow.first_seen_at, stmt.excluded.first_seen_at),
                "last_seen_at": func.greatest(SessionRow.last_seen_at, stmt.excluded.last_seen_at),
                "updated_at": func.now(),
            }
            # The provider named in session.started wins over the per-frame provider.
            cols = ["ended_at", "last_seq_declared", "end_reason"]
            if "started_at" in row:
                cols += ["started_at", "provider"]
            for col in cols:
                if col in row:
                    updates[col] = getattr(stmt.excluded, col)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["tenant_id", "session_id"], set_=updates))
        seen_rows = [{"tenant_id": d.envelope.tenant_id, "session_id": d.envelope.session_id,
                      "seq": d.envelope.seq, "kind": d.envelope.kind} for d in batch]
        inserted = await conn.execute(
            pg_insert(SessionEventSeen).values(seen_rows).on_conflict_do_nothing()
            .returning(SessionEventSeen.tenant_id, SessionEventSeen.session_id, SessionEventSeen.seq)
        )
        fresh: dict[tuple[str, str], list[int]] = defaultdict(list)
        for tenant, session, seq in inserted:
            fresh[(tenant, session)].append(seq)
        for (tenant, session), seqs in fresh.items():
            await conn.execute(
                update(SessionRow)
                .where(SessionRow.tenant_id == tenant, SessionRow.session_id == session)
                .values(events=SessionRow.events + len(seqs),
                        max_seq=func.greatest(SessionRow.max_seq, max(seqs)))
            )
