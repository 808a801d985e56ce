"""SQL of the training export: candidate sessions with consent, redacted turns, lineage.

Reads redacted text only (``redacted_turns``), never ``transcript_turns`` text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.redaction.export import Candidate, ExportFormat, ToolCall, Turn
from services.redaction.models import (
    ConsentRow,
    RedactedToolCallRow,
    RedactedTurnRow,
    RedactionSession,
    TrainingExport,
    TrainingExportSession,
)
from services.transcripts.models import TranscriptSession

RS, TS, C, R = RedactionSession, TranscriptSession, ConsentRow, RedactedTurnRow
_CHUNK = 1000


async def candidates(conn: AsyncConnection, tenant: str) -> list[Candidate]:
    """Every ended session of the tenant with its training consent and redaction state."""
    training = and_(C.tenant_id == RS.tenant_id, C.session_id == RS.session_id,
                    C.scope == "training")
    rows = await conn.execute(
        select(RS.session_id, TS.started_at, C.state, RS.policy_hash,
               (RS.source_frames == TS.frames).label("current"), RS.held)
        .join(TS, (TS.tenant_id == RS.tenant_id) & (TS.session_id == RS.session_id))
        .outerjoin(C, training)
        .where(RS.tenant_id == tenant).order_by(RS.session_id))
    return [Candidate(r.session_id, r.started_at, r.state, r.policy_hash, bool(r.current),
                      r.held) for r in rows]


async def redacted_turns(conn: AsyncConnection, tenant: str, sessions: Sequence[str],
                         policy_hash: str) -> dict[str, list[tuple[Turn, str, str]]]:
    """Per session, its turns in order with the detector version and model of each."""
    out: dict[str, list[tuple[Turn, str, str]]] = {s: [] for s in sessions}
    for i in range(0, len(sessions), _CHUNK):
        rows = await conn.execute(
            select(R.session_id, R.speaker, R.status, R.start_ms, R.end_ms, R.text, R.withheld,
                   R.detector_version, R.model)
            .where(R.tenant_id == tenant, R.policy_hash == policy_hash,
                   R.session_id.in_(sessions[i:i + _CHUNK]))
            .order_by(R.session_id, R.ordinal))
        for r in rows:
            out[r.session_id].append((Turn(r.speaker, r.status, r.start_ms, r.end_ms, r.text,
                                           r.withheld), r.detector_version, r.model))
    return out


async def redacted_tool_calls(conn: AsyncConnection, tenant: str, sessions: Sequence[str],
                              policy_hash: str) -> dict[str, list[ToolCall]]:
    """Per session, its redacted tool calls in order."""
    T = RedactedToolCallRow
    out: dict[str, list[ToolCall]] = {s: [] for s in sessions}
    for i in range(0, len(sessions), _CHUNK):
        rows = await conn.execute(
            select(T.session_id, T.call_id, T.name, T.arguments, T.result, T.is_error,
                   T.started_ms, T.ended_ms, T.withheld)
            .where(T.tenant_id == tenant, T.policy_hash == policy_hash,
                   T.session_id.in_(sessions[i:i + _CHUNK]))
            .order_by(T.session_id, T.ordinal))
        for r in rows:
            out[r.session_id].append(ToolCall(r.call_id, r.name, r.arguments, r.result,
                                              r.is_error, r.started_ms, r.ended_ms,
                                              r.withheld))
    return out


async def record_lineage(conn: AsyncConnection, *, export: str, tenant: str, fmt: ExportFormat,
                         since: datetime | None, policy_hash: str, bucket: str,
                         manifest_key: str, sessions: Sequence[str]) -> None:
    """The export and its sessions, before any upload; a re-run adds nothing new."""
    stmt = pg_insert(TrainingExport).values(
        export_id=export, tenant_id=tenant, format=fmt.value, since=since,
        policy_hash=policy_hash, sessions=len(sessions), bucket=bucket,
        manifest_key=manifest_key, manifest_sha256=None)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["export_id"], set_={"manifest_sha256": None, "updated_at": func.now()}))
    for i in range(0, len(sessions), _CHUNK):
        await conn.execute(pg_insert(TrainingExportSession).values(
            [{"export_id": export, "tenant_id": tenant, "session_id": s}
             for s in sessions[i:i + _CHUNK]]).on_conflict_do_nothing())


async def complete(conn: AsyncConnection, export: str, manifest_sha256: str) -> None:
    await conn.execute(update(TrainingExport).where(TrainingExport.export_id == export).values(
        manifest_sha256=manifest_sha256, updated_at=func.now()))


async def export_row(conn: AsyncConnection, tenant: str, export: str) -> dict[str, Any] | None:
    """One export of the tenant (None for another tenant's id or an unknown one)."""
    row = (await conn.execute(select(*TrainingExport.__table__.c).where(
        TrainingExport.tenant_id == tenant, TrainingExport.export_id == export))).first()
    return None if row is None else dict(row._mapping)
