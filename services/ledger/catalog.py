"""The session catalog: one metadata row per session (tenant, provider, start/end, counts).

A ledger :class:`~services.ledger.follower.Projection` (no audio bytes). Idempotent without a row
per event: each session row keeps which seqs it counted (``max_seq`` and the holes below it, see
catalog_seqs.py), so an event counts once however often it is applied or a gateway republishes
it under a new event id. Per batch: one upsert of every touched session that
also locks the rows and returns their bookkeeping, then one executemany of the new counts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, case, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.envelope import Direction, Envelope
from services.ledger.catalog_models import SessionRow
from services.ledger.catalog_seqs import SeenSeqs
from services.ledger.follower import ProjectionDefaults
from services.ledger.reader import AudioMode, SealedEvent

_T = SessionRow.__table__

_ins = pg_insert(SessionRow)
# Built once: SQLAlchemy caches the compiled form of the same statement object shape.
UPSERT = _ins.on_conflict_do_update(
    index_elements=["tenant_id", "session_id"],
    set_={
        "first_seen_at": func.least(SessionRow.first_seen_at, _ins.excluded.first_seen_at),
        "last_seen_at": func.greatest(SessionRow.last_seen_at, _ins.excluded.last_seen_at),
        # The provider named in session.started wins over the per-frame provider.
        "provider": case((_ins.excluded.started_at.is_not(None), _ins.excluded.provider),
                         else_=SessionRow.provider),
        "started_at": func.coalesce(_ins.excluded.started_at, SessionRow.started_at),
        "ended_at": func.coalesce(_ins.excluded.ended_at, SessionRow.ended_at),
        "last_seq_declared": case((_ins.excluded.ended_at.is_not(None),
                                   _ins.excluded.last_seq_declared),
                                  else_=SessionRow.last_seq_declared),
        "end_reason": case((_ins.excluded.ended_at.is_not(None), _ins.excluded.end_reason),
                           else_=SessionRow.end_reason),
        "updated_at": func.now(),
    },
).returning(SessionRow.tenant_id, SessionRow.session_id, SessionRow.max_seq,
            SessionRow.seq_holes, SessionRow.kind_counts)

COUNTS = (
    update(SessionRow)
    .where(SessionRow.tenant_id == bindparam("b_tenant"),
           SessionRow.session_id == bindparam("b_session"))
    .values(events=SessionRow.events + bindparam("b_fresh"), max_seq=bindparam("b_max_seq"),
            seq_holes=bindparam("b_holes", type_=_T.c.seq_holes.type),
            kind_counts=bindparam("b_kinds", type_=_T.c.kind_counts.type))
)

_META = ("started_at", "ended_at", "last_seq_declared", "end_reason")


def _session_rows(batch: list[Envelope]
                  ) -> tuple[dict[tuple[str, str], dict[str, Any]],
                             dict[tuple[str, str], list[tuple[int, str]]]]:
    sessions: dict[tuple[str, str], dict[str, Any]] = {}
    events: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for env in batch:
        key = (env.tenant_id, env.session_id)
        events[key].append((env.seq, env.kind))
        row = sessions.get(key)
        if row is None:
            row = sessions[key] = {
                "tenant_id": env.tenant_id, "session_id": env.session_id,
                "provider": env.provider.value, "first_seen_at": env.recorded_at,
                "last_seen_at": env.recorded_at, **dict.fromkeys(_META)}
        row["first_seen_at"] = min(row["first_seen_at"], env.recorded_at)
        row["last_seen_at"] = max(row["last_seen_at"], env.recorded_at)
        if env.direction is not Direction.SYSTEM:
            continue
        if env.type == "session.started":
            row["started_at"] = env.recorded_at
            provider = env.payload.get("provider")
            if isinstance(provider, str) and len(provider) <= 32:
                row["provider"] = provider
        elif env.type == "session.ended":
            row["ended_at"] = env.recorded_at
            last = env.payload.get("last_seq")
            row["last_seq_declared"] = last if isinstance(last, int) else None
            reason = env.payload.get("reason")
            row["end_reason"] = reason[:64] if isinstance(reason, str) else None
    return sessions, events


class SessionCatalog(ProjectionDefaults):
    name = "catalog"
    # Audio frames are only counted (their kind is their type): their payloads are not parsed.
    audio: AudioMode = "none"
    linger = 0.25

    def __init__(self, *, tenant: str | None = None) -> None:
        # Metadata only: audio frames count as events but their bytes are never needed here.
        self.tenant = tenant

    async def handle(self, conn: AsyncConnection, batch: list[SealedEvent]) -> None:
        sessions, events = _session_rows([e.envelope for e in batch])
        # Sorted, so two transactions touching the same sessions lock them in the same order.
        rows = [sessions[k] for k in sorted(sessions)]
        # The upsert locks each row until commit, so the bookkeeping read here stays ours.
        locked = (await conn.execute(UPSERT, rows)).all()
        updates = []
        for tenant, session, max_seq, holes, kinds in locked:
            seen = SeenSeqs(max_seq, [list(h) for h in holes])
            fresh = [(seq, kind) for seq, kind in events[(tenant, session)] if seen.add(seq)]
            if not fresh:
                continue
            counts = dict(kinds)
            for _, kind in fresh:
                counts[kind] = int(counts.get(kind, 0)) + 1
            updates.append({"b_tenant": tenant, "b_session": session, "b_fresh": len(fresh),
                            "b_max_seq": seen.max_seq, "b_holes": seen.holes,
                            "b_kinds": counts})
        if updates:
            await conn.execute(COUNTS, updates)
