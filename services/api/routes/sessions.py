"""``GET /v1/sessions`` and ``GET /v1/sessions/{session_id}`` (metadata, completeness, transcript).

Views: ``metadata`` (auditor's default: no transcript), ``redacted`` (reviewer's and data's
default: the stored redaction), ``original`` (reviewer only, with a ``reason``: sealed as
``access.original`` before the body is returned).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from schemas.api import (
    AudioTrack,
    Completeness,
    OriginalToolCall,
    OriginalTranscript,
    OriginalTurn,
    RedactedTranscript,
    RedactedTurn,
    SessionDetail,
    SessionPage,
    SessionSummary,
    ToolCallName,
)
from services.api import access
from services.api.auth import allow
from services.api.params import (
    Erased,
    Held,
    Provider,
    Reason,
    SessionId,
    Since,
    Until,
    View,
    decode_cursor,
    encode_cursor,
    utc,
)
from services.api.problems import forbidden, not_found, problem_responses
from services.api.state import ApiState, St
from services.api.tokens import Principal, Role

router = APIRouter(tags=["sessions"])
LISTERS = (Role.REVIEWER, Role.DATA, Role.AUDITOR)
VIEWS = {Role.REVIEWER: {View.METADATA, View.REDACTED, View.ORIGINAL},
         Role.DATA: {View.METADATA, View.REDACTED}, Role.AUDITOR: {View.METADATA}}
DEFAULT_VIEW = {Role.REVIEWER: View.REDACTED, Role.DATA: View.REDACTED,
                Role.AUDITOR: View.METADATA}
_SUMMARY = ("session_id", "provider", "started_at", "ended_at", "duration_ms", "events",
            "end_reason")


@router.get("/sessions", response_model=SessionPage,
            responses=problem_responses(401, 403, 422, 429))
async def list_sessions(
    who: Annotated[Principal, Depends(allow(*LISTERS))], st: St,
    since: Since = None, until: Until = None, provider: Provider = None,
    ended: Annotated[bool | None, Query(description="only ended (true) or open (false)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400, description="next_cursor of a page")] = None,
    held: Held = None, erased: Erased = None,
) -> SessionPage:
    """The tenant's sessions, newest first, a page at a time (metadata only)."""
    from services.ledger.catalog_repo import page_sessions

    after = decode_cursor(cursor)
    start, end = utc(since, "since"), utc(until, "until")
    async with st.engine.connect() as conn:
        rows = await conn.run_sync(lambda c: page_sessions(
            c, who.tenant_id, since=start, until=end, provider=provider, ended=ended,
            after=after, limit=limit + 1, held=held, erased=erased))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1]["first_seen_at"], rows[-1]["session_id"]) if more else None
    return SessionPage(sessions=[SessionSummary(**{k: r[k] for k in _SUMMARY}) for r in rows],
                       next_cursor=nxt)


@router.get("/sessions/{session_id}", response_model=SessionDetail,
            response_model_exclude_none=False,
            responses=problem_responses(401, 403, 404, 422, 429, 503))
async def get_session(
    session_id: SessionId, who: Annotated[Principal, Depends(allow(*LISTERS))],
    st: St,
    view: Annotated[View | None, Query(description="metadata, redacted or original")] = None,
    reason: Reason = None,
) -> SessionDetail:
    """One session: metadata, completeness, audio tracks and the transcript in the view asked
    for (redacted by default; ``view=original`` needs the reviewer role and a reason)."""
    chosen = view or DEFAULT_VIEW[who.role]
    if chosen not in VIEWS[who.role]:
        raise forbidden(who.role.value, f"views {', '.join(sorted(VIEWS[who.role]))}")
    why = access.check_reason(reason, "an original") if chosen is View.ORIGINAL else None
    info = await _load(st, who.tenant_id, session_id, chosen)
    if chosen is View.ORIGINAL:
        await access.record(st, who, "original", "GET /v1/sessions/{session_id}", reason=why,
                            sessions=[session_id], view="original")
    return info


async def _load(st: ApiState, tenant: str, session: str, view: View) -> SessionDetail:
    from services.audio.cli import audio_section
    from services.ledger.catalog_repo import event_kinds, find_session
    from services.ledger.summary import ledger_summary

    async with st.engine.connect() as conn:
        found = await conn.run_sync(lambda c: find_session(c, session, tenant))
        if not found:
            raise not_found()
        kinds = await conn.run_sync(lambda c: event_kinds(c, tenant, session))
        ledger = await ledger_summary(conn, tenant, session)
        audio = await conn.run_sync(lambda c: audio_section(c, tenant, session))
        redacted = original = None
        if view is View.REDACTED:
            redacted = await _redacted(conn, tenant, session)
        elif view is View.ORIGINAL:
            original = await _original(conn, tenant, session)
    row = found[0]
    tracks: dict[str, AudioTrack] = {}
    if audio is not None:
        unheard = audio.pop("unheard", None)
        tracks["heard"] = _track(audio)
        if unheard is not None:
            tracks["unheard"] = _track(unheard)
    return SessionDetail(
        **{k: row[k] for k in _SUMMARY}, event_kinds=kinds,
        completeness=_completeness(ledger),
        audio=tracks, view=view.value, redacted=redacted, original=original)


def _completeness(ledger: dict[str, Any]) -> Completeness:
    return Completeness(sealed=ledger["sealed"], entries=ledger["entries"], gaps=ledger["gaps"],
                        missing=ledger["missing"], duplicates=ledger["duplicates"],
                        ended=ledger["ended"], timed_out=ledger.get("timed_out", False),
                        erased=ledger.get("erased", False))


def _track(d: dict[str, Any]) -> AudioTrack:
    return AudioTrack(**{k: d[k] for k in AudioTrack.model_fields})


async def _redacted(conn: Any, tenant: str, session: str) -> RedactedTranscript | None:
    from services.redaction.reads import redacted_transcript
    from services.transcripts.reads import transcript

    found = await redacted_transcript(conn, tenant, session)
    if found is None:
        return None
    full = await conn.run_sync(lambda c: transcript(c, tenant, session))
    tools = [ToolCallName(**{k: t[k] for k in ToolCallName.model_fields})
             for t in (full or {}).get("tool_calls", [])]
    return RedactedTranscript(policy_version=found["policy_version"],
                              redacted_at=found["redacted_at"], current=found["current"],
                              turns=[RedactedTurn(**t) for t in found["turns"]],
                              tool_calls=tools)


async def _original(conn: Any, tenant: str, session: str) -> OriginalTranscript:
    from services.transcripts.reads import transcript

    full = await conn.run_sync(lambda c: transcript(c, tenant, session))
    if full is None:
        return OriginalTranscript(language=None, turns=[], tool_calls=[])
    return OriginalTranscript(language=full["summary"]["language"],
                              turns=[OriginalTurn(**t) for t in full["turns"]],
                              tool_calls=[OriginalToolCall(**t) for t in full["tool_calls"]])
