"""``GET /v1/access-log``: the tenant's ``access.*`` events, read back from its ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from schemas.api import AccessEvent, AccessLog
from services.api.auth import allow
from services.api.problems import problem_responses
from services.api.state import St
from services.api.tokens import Principal, Role

router = APIRouter(tags=["audit"])


@router.get("/access-log", response_model=AccessLog,
            responses=problem_responses(401, 403, 422, 429))
async def access_log(
    who: Annotated[Principal, Depends(allow(Role.AUDITOR, Role.ADMIN))], st: St,
    after: Annotated[int, Query(ge=-1, le=2**62, description="ledger position to start after")] = -1,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AccessLog:
    """Who read which session's content, when and why, in ledger order (a page at a time:
    pass ``next_after`` as ``after``)."""
    from services.ledger.journal_reads import journal_entries

    async with st.engine.connect() as conn:
        rows = await journal_entries(conn, st.keys, who.tenant_id, prefix="access.",
                                     after=after, limit=limit)
    events = [AccessEvent(position=r.position, event_id=r.event_id, type=r.type,
                          recorded_at=r.recorded_at.isoformat(), body=r.body) for r in rows]
    return AccessLog(events=events,
                     next_after=events[-1].position if len(events) == limit else None)
