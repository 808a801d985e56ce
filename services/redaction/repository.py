"""SQL of the redaction worker: consent, ended sessions, redacted turns, tenant policies.

Every write is idempotent (upserts keyed by event, session or turn + policy hash): a redelivered
batch or a second worker instance yields the same rows. Text read here is PII-bearing; nothing
here logs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.redaction.consent import ConsentEvent
from services.redaction.models import (
    ConsentRow,
    RedactedToolCallRow,
    RedactedTurnRow,
    RedactionPolicyRow,
    RedactionSession,
)
from services.redaction.policy import DEFAULT_POLICY, RedactionPolicy
from services.transcripts.models import TranscriptSession, TranscriptToolCall, TranscriptTurn

RS, TS, TT, TC = RedactionSession, TranscriptSession, TranscriptTurn, TranscriptToolCall


@dataclass(frozen=True, slots=True)
class SourceTurn:
    turn_id: str
    ordinal: int
    speaker: str
    status: str
    start_ms: int
    end_ms: int
    heard_text: str | None
    withheld: str | None


@dataclass(frozen=True, slots=True)
class SourceToolCall:
    call_id: str
    ordinal: int
    name: str
    arguments: str | None
    result: str | None
    is_error: bool
    started_ms: int
    ended_ms: int | None
    withheld: str | None


async def record_consent(conn: AsyncConnection, events: Sequence[ConsentEvent]) -> None:
    """Keep per (session, scope) the event latest by (recorded_at, seq)."""
    for e in events:
        stmt = pg_insert(ConsentRow).values(
            tenant_id=e.tenant_id, session_id=e.session_id, scope=e.scope.value,
            state=e.state.value, event_id=e.event_id, seq=e.seq, recorded_at=e.recorded_at)
        newer = tuple_(stmt.excluded.recorded_at, stmt.excluded.seq) > tuple_(
            ConsentRow.recorded_at, ConsentRow.seq)
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "session_id", "scope"],
            set_={c: stmt.excluded[c] for c in ("state", "event_id", "seq", "recorded_at")},
            where=newer))


async def mark_ended(conn: AsyncConnection, tenant: str, session: str, expected_frames: int,
                     ended_at: datetime) -> None:
    stmt = pg_insert(RS).values(tenant_id=tenant, session_id=session,
                                expected_frames=expected_frames, ended_at=ended_at, turns=0,
                                findings=0)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["tenant_id", "session_id"],
        set_={"expected_frames": func.greatest(RS.expected_frames, stmt.excluded.expected_frames),
              "ended_at": stmt.excluded.ended_at}))


def _due() -> Any:
    """Ended, transcript caught up, and the stored redaction (if any) is of an older revision."""
    return and_(TS.frames >= RS.expected_frames,
                or_(RS.source_frames.is_(None), RS.source_frames != TS.frames))


async def due_sessions(conn: AsyncConnection, limit: int, tenant: str | None = None,
                       among: Sequence[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Sessions due, oldest end first; ``among``: only those (tenant, session) keys (primary
    key lookups, where the whole query joins every session ever ended)."""
    stmt = (select(RS.tenant_id, RS.session_id)
            .join(TS, (TS.tenant_id == RS.tenant_id) & (TS.session_id == RS.session_id))
            .where(_due()).order_by(RS.ended_at).limit(limit))
    if tenant is not None:
        stmt = stmt.where(RS.tenant_id == tenant)
    if among is not None:
        if not among:
            return []
        stmt = stmt.where(tuple_(RS.tenant_id, RS.session_id).in_(list(among)))
    return [(r.tenant_id, r.session_id) for r in await conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class Claim:
    frames: int  # the transcript revision to redact
    source_frames: int | None  # the revision of the stored redaction
    policy_hash: str | None  # the policy of the stored redaction


async def claim(conn: AsyncConnection, tenant: str, session: str) -> Claim | None:
    """Lock an ended session whose transcript has caught up, skipping one another worker holds
    (None: not ended, transcript behind, or locked elsewhere)."""
    row = (await conn.execute(
        select(TS.frames, RS.source_frames, RS.policy_hash)
        .join(RS, (TS.tenant_id == RS.tenant_id) & (TS.session_id == RS.session_id))
        .where(RS.tenant_id == tenant, RS.session_id == session,
               TS.frames >= RS.expected_frames)
        .with_for_update(of=RS, skip_locked=True))).first()
    return None if row is None else Claim(int(row.frames), row.source_frames, row.policy_hash)


async def load_turns(conn: AsyncConnection, tenant: str, session: str) -> list[SourceTurn]:
    rows = await conn.execute(
        select(TT.turn_id, TT.ordinal, TT.speaker, TT.status, TT.start_ms, TT.end_ms,
               TT.heard_text, TT.withheld)
        .where(TT.tenant_id == tenant, TT.session_id == session).order_by(TT.ordinal))
    return [SourceTurn(*r) for r in rows]


async def load_tool_calls(conn: AsyncConnection, tenant: str,
                          session: str) -> list[SourceToolCall]:
    rows = await conn.execute(
        select(TC.call_id, TC.ordinal, TC.name, TC.arguments, TC.result, TC.is_error,
               TC.started_ms, TC.ended_ms, TC.withheld)
        .where(TC.tenant_id == tenant, TC.session_id == session).order_by(TC.ordinal))
    return [SourceToolCall(*r) for r in rows]


async def write_tool_calls(conn: AsyncConnection, tenant: str, session: str,
                           policy: RedactionPolicy, rows: list[dict[str, Any]]) -> None:
    """Replace the session's redacted tool calls with ``rows``."""
    await conn.execute(delete(RedactedToolCallRow).where(
        RedactedToolCallRow.tenant_id == tenant, RedactedToolCallRow.session_id == session))
    if rows:
        await conn.execute(pg_insert(RedactedToolCallRow).values(
            [{"tenant_id": tenant, "session_id": session, "policy_hash": policy.policy_hash,
              "policy_version": policy.version, **r} for r in rows]))


async def write_redaction(conn: AsyncConnection, tenant: str, session: str, source_frames: int,
                          policy: RedactionPolicy, rows: list[dict[str, Any]], *,
                          language: str | None = None, held: str | None = None) -> None:
    """Replace the session's redacted turns with ``rows`` (one policy hash per session)."""
    where = (RedactedTurnRow.tenant_id == tenant, RedactedTurnRow.session_id == session)
    ids = [r["turn_id"] for r in rows]
    stale = delete(RedactedTurnRow).where(*where)
    if ids:
        stale = stale.where(or_(RedactedTurnRow.policy_hash != policy.policy_hash,
                                RedactedTurnRow.turn_id.not_in(ids)))
    await conn.execute(stale)
    if rows:
        stmt = pg_insert(RedactedTurnRow).values(
            [{"tenant_id": tenant, "session_id": session, "policy_hash": policy.policy_hash,
              "policy_version": policy.version, **r} for r in rows])
        cols = [c for c in rows[0] if c != "turn_id"] + ["policy_version"]
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "session_id", "turn_id", "policy_hash"],
            set_={**{c: stmt.excluded[c] for c in cols}, "created_at": func.now()}))
    await conn.execute(update(RS).where(RS.tenant_id == tenant, RS.session_id == session).values(
        source_frames=source_frames, policy_hash=policy.policy_hash,
        policy_version=policy.version, turns=len(rows),
        findings=sum(len(r["findings"]) for r in rows), redacted_at=func.now(),
        language=language, held=held))


async def tenant_sessions(conn: AsyncConnection, tenant: str) -> list[str]:
    rows = await conn.execute(select(RS.session_id).where(RS.tenant_id == tenant)
                              .order_by(RS.ended_at))
    return [r.session_id for r in rows]


async def current_policy(conn: AsyncConnection, tenant: str) -> RedactionPolicy:
    body = (await conn.execute(select(RedactionPolicyRow.body).where(
        RedactionPolicyRow.tenant_id == tenant))).scalar()
    return DEFAULT_POLICY if body is None else RedactionPolicy.model_validate(body)


async def set_policy(conn: AsyncConnection, tenant: str, policy: RedactionPolicy) -> None:
    stmt = pg_insert(RedactionPolicyRow).values(
        tenant_id=tenant, version=policy.version, policy_hash=policy.policy_hash,
        body=policy.model_dump(mode="json"))
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={"version": stmt.excluded.version, "policy_hash": stmt.excluded.policy_hash,
              "body": stmt.excluded.body, "updated_at": func.now()}))


@dataclass(frozen=True, slots=True)
class LiveRedaction:
    """A session's stored redaction, as ``voxledger replay`` compares it."""

    source_frames: int | None
    policy_hash: str | None
    language: str | None
    held: str | None
    turns: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]


_TURN_COLS = ("turn_id", "ordinal", "speaker", "status", "start_ms", "end_ms", "text",
              "withheld", "findings", "detector_version", "model")
_CALL_COLS = ("call_id", "ordinal", "name", "arguments", "result", "is_error", "started_ms",
              "ended_ms", "withheld", "findings")


async def live_redaction(conn: AsyncConnection, tenant: str, session: str
                         ) -> LiveRedaction | None:
    """The stored redaction of the session (its current policy's rows), None if never ended."""
    head = (await conn.execute(select(RS.source_frames, RS.policy_hash, RS.language, RS.held)
                               .where(RS.tenant_id == tenant, RS.session_id == session))).first()
    if head is None:
        return None
    turns = await conn.execute(
        select(*(getattr(RedactedTurnRow, c) for c in _TURN_COLS))
        .where(RedactedTurnRow.tenant_id == tenant, RedactedTurnRow.session_id == session,
               RedactedTurnRow.policy_hash == head.policy_hash)
        .order_by(RedactedTurnRow.ordinal))
    calls = await conn.execute(
        select(*(getattr(RedactedToolCallRow, c) for c in _CALL_COLS))
        .where(RedactedToolCallRow.tenant_id == tenant,
               RedactedToolCallRow.session_id == session,
               RedactedToolCallRow.policy_hash == head.policy_hash)
        .order_by(RedactedToolCallRow.ordinal))
    return LiveRedaction(head.source_frames, head.policy_hash, head.language, head.held,
                         [dict(r._mapping) for r in turns], [dict(r._mapping) for r in calls])


def comparable_rows(turns: list[dict[str, Any]], calls: list[dict[str, Any]]
                    ) -> dict[str, list[dict[str, Any]]]:
    """The columns of freshly computed rows that the stored ones are compared on."""
    return {"redacted_turns": [{c: t[c] for c in _TURN_COLS} for t in turns],
            "redacted_tool_calls": [{c: t[c] for c in _CALL_COLS} for t in calls]}
