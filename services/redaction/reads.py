"""The redacted read side for the API: a session's redacted turns, search over redacted text.

Reads ``redacted_turns`` only, never ``transcript_turns`` text, so a caller who may see only
redacted text cannot learn an original word, not even by which searches match.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.redaction.models import RedactedTurnRow, RedactionSession
from services.transcripts.models import TS_CONFIG, TranscriptSession
from services.transcripts.reads import HEADLINE

R, RS, TS = RedactedTurnRow, RedactionSession, TranscriptSession


async def redacted_transcript(conn: AsyncConnection, tenant: str, session: str
                              ) -> dict[str, Any] | None:
    """The stored redaction of an ended session (None until the worker has redacted it)."""
    state = (await conn.execute(
        select(RS.policy_hash, RS.policy_version, RS.redacted_at, RS.findings,
               (RS.source_frames == TS.frames).label("current"))
        .outerjoin(TS, (TS.tenant_id == RS.tenant_id) & (TS.session_id == RS.session_id))
        .where(RS.tenant_id == tenant, RS.session_id == session))).first()
    if state is None or state.redacted_at is None:
        return None
    turns = await conn.execute(
        select(R.turn_id, R.speaker, R.status, R.start_ms, R.end_ms, R.text, R.withheld)
        .where(R.tenant_id == tenant, R.session_id == session,
               R.policy_hash == state.policy_hash).order_by(R.ordinal))
    return {"policy_version": state.policy_version, "redacted_at": state.redacted_at.isoformat(),
            "findings": state.findings, "current": bool(state.current),
            "turns": [dict(r._mapping) for r in turns]}


async def search_redacted(conn: AsyncConnection, tenant: str, words: str, *, limit: int = 50,
                          since: datetime | None = None, until: datetime | None = None,
                          provider: str | None = None, interrupted: bool | None = None,
                          has_tool_call: bool | None = None, min_ms: int | None = None,
                          max_ms: int | None = None, held: bool | None = None,
                          erased: bool | None = None) -> list[dict[str, Any]]:
    """Turns whose redacted text matches (web-search syntax), best first, with snippets of the
    redacted text. Computed per query: redacted text has no stored search vector yet.
    ``min_ms``/``max_ms`` bound the session's timeline length (its duration)."""
    query = func.websearch_to_tsquery(TS_CONFIG, words)
    vector = func.to_tsvector(TS_CONFIG, func.coalesce(R.text, ""))
    rank = func.ts_rank(vector, query)
    stmt = (select(R.session_id, R.turn_id, R.speaker, R.status, R.start_ms, R.end_ms,
                   TS.provider, TS.started_at, rank.label("rank"),
                   func.ts_headline(TS_CONFIG, R.text, query, HEADLINE).label("snippet"))
            .join(RS, (RS.tenant_id == R.tenant_id) & (RS.session_id == R.session_id)
                  & (RS.policy_hash == R.policy_hash))
            .join(TS, (TS.tenant_id == R.tenant_id) & (TS.session_id == R.session_id))
            .where(R.tenant_id == tenant, vector.op("@@")(query))
            .order_by(rank.desc(), TS.started_at.desc(), R.session_id, R.ordinal).limit(limit))
    if since is not None:
        stmt = stmt.where(TS.started_at >= since)
    if until is not None:
        stmt = stmt.where(TS.started_at < until)
    if provider is not None:
        stmt = stmt.where(TS.provider == provider)
    if interrupted is not None:
        stmt = stmt.where(TS.interrupted.is_(interrupted))
    if has_tool_call is not None:
        stmt = stmt.where(TS.has_tool_call.is_(has_tool_call))
    if min_ms is not None:
        stmt = stmt.where(TS.timeline_ms >= min_ms)
    if max_ms is not None:
        stmt = stmt.where(TS.timeline_ms <= max_ms)
    if held is not None or erased is not None:
        from services.retention.session_state import where_state

        stmt = where_state(stmt, TS.tenant_id, TS.session_id, is_held=held, is_erased=erased)
    return [{**r._mapping, "rank": round(float(r.rank), 6),
             "started_at": r.started_at.isoformat() if r.started_at else None}
            for r in await conn.execute(stmt)]
