"""SQL of the transcript read side (``sessions show``, ``search``). Read-only, synchronous.

Returns PII-bearing text: callers decide who may see it (the API issue adds roles and the access
log); nothing here logs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from services.transcripts.models import (
    TS_CONFIG,
    TranscriptSession,
    TranscriptToolCall,
    TranscriptTurn,
)

S, T, C = TranscriptSession, TranscriptTurn, TranscriptToolCall
# Marks around matched words in snippets: plain brackets survive JSON and terminals alike.
HEADLINE = "StartSel=[[, StopSel=]], MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter= … "


def transcript(conn: Connection, tenant: str, session: str) -> dict[str, Any] | None:
    summary = conn.execute(select(S.__table__).where(
        S.tenant_id == tenant, S.session_id == session)).mappings().first()
    if summary is None:
        return None
    turns = conn.execute(
        select(T.turn_id, T.speaker, T.text, T.heard_text, T.status, T.start_ms, T.end_ms,
               T.approximate, T.heard_ms, T.generated_ms, T.language, T.withheld,
               T.modality)
        .where(T.tenant_id == tenant, T.session_id == session).order_by(T.ordinal)).mappings()
    tools = conn.execute(
        select(C.call_id, C.name, C.arguments, C.result, C.is_error, C.cancelled, C.started_ms,
               C.ended_ms, C.turn_id, C.withheld)
        .where(C.tenant_id == tenant, C.session_id == session).order_by(C.ordinal)).mappings()
    return {
        "summary": {k: summary[k] for k in ("provider", "agent", "model", "language",
                                             "timeline_ms", "interrupted", "has_tool_call",
                                             "frame_errors")},
        "turns": [dict(r) for r in turns],
        "tool_calls": [dict(r) for r in tools],
    }


@dataclass(frozen=True)
class SearchFilters:
    tenant: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    provider: str | None = None
    agent: str | None = None
    interrupted: bool | None = None  # the session has an interrupted or truncated turn
    has_tool_call: bool | None = None
    min_ms: int | None = None  # the session's timeline length (duration) at least
    max_ms: int | None = None
    held: bool | None = None  # an active legal hold covers the session
    erased: bool | None = None  # its data key is destroyed
    limit: int = 50


def search(conn: Connection, words: str, f: SearchFilters) -> list[dict[str, Any]]:
    """Turns whose heard text matches ``words`` (web-search syntax: "quoted phrase", or, -not),
    best first, each with a snippet of the heard text around the match."""
    query = func.websearch_to_tsquery(TS_CONFIG, words)
    rank = func.ts_rank(T.search, query)
    stmt = (
        select(T.tenant_id, T.session_id, T.turn_id, T.speaker, T.status, T.start_ms, T.end_ms,
               S.provider, S.agent, S.started_at, rank.label("rank"),
               func.ts_headline(TS_CONFIG, T.heard_text, query, HEADLINE).label("snippet"))
        .join(S, (S.tenant_id == T.tenant_id) & (S.session_id == T.session_id))
        .where(T.search.op("@@")(query))
        .order_by(rank.desc(), S.started_at.desc(), T.session_id, T.ordinal)
        .limit(f.limit))
    if f.tenant:
        stmt = stmt.where(T.tenant_id == f.tenant)
    if f.since:
        stmt = stmt.where(S.started_at >= f.since)
    if f.until:
        stmt = stmt.where(S.started_at < f.until)
    if f.provider:
        stmt = stmt.where(S.provider == f.provider)
    if f.agent:
        stmt = stmt.where(S.agent == f.agent)
    if f.interrupted is not None:
        stmt = stmt.where(S.interrupted.is_(f.interrupted))
    if f.has_tool_call is not None:
        stmt = stmt.where(S.has_tool_call.is_(f.has_tool_call))
    if f.min_ms is not None:
        stmt = stmt.where(S.timeline_ms >= f.min_ms)
    if f.max_ms is not None:
        stmt = stmt.where(S.timeline_ms <= f.max_ms)
    if f.held is not None or f.erased is not None:
        from services.retention.session_state import where_state

        stmt = where_state(stmt, S.tenant_id, S.session_id, is_held=f.held, is_erased=f.erased)
    rows = conn.execute(stmt).mappings().all()
    return [{**r, "rank": round(float(r["rank"]), 6),
             "started_at": r["started_at"].isoformat() if r["started_at"] else None}
            for r in rows]
