"""``GET /v1/search``: full-text search, redacted snippets by default.

``data`` searches redacted text and gets redacted snippets only (it cannot learn an original
word, not even from which queries match). ``reviewer`` may ask for ``view=original`` with a
reason: the hits' sessions are sealed as ``access.search`` before the results are returned.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from schemas.api import SearchHit, SearchResult
from services.api import access
from services.api.auth import allow
from services.api.params import Erased, Held, Provider, Reason, SearchView, Since, Until, utc
from services.api.problems import forbidden, problem_responses
from services.api.state import St
from services.api.tokens import Principal, Role

router = APIRouter(tags=["search"])
_FIELDS = tuple(SearchHit.model_fields)


@router.get("/search", response_model=SearchResult,
            responses=problem_responses(401, 403, 422, 429, 503))
async def search(
    q: Annotated[str, Query(min_length=1, max_length=500,
                            description='words, "a quoted phrase", or, -excluded')],
    who: Annotated[Principal, Depends(allow(Role.REVIEWER, Role.DATA))], st: St,
    view: Annotated[SearchView, Query(description="redacted (default) or original")
                    ] = SearchView.REDACTED,
    reason: Reason = None, since: Since = None, until: Until = None, provider: Provider = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    interrupted: Annotated[bool | None, Query(
        description="only calls with (true) or without (false) a cut-off agent turn")] = None,
    tool_calls: Annotated[bool | None, Query(
        description="only calls with (true) or without (false) a tool call")] = None,
    min_duration_s: Annotated[int | None, Query(ge=0, le=86400)] = None,
    max_duration_s: Annotated[int | None, Query(ge=0, le=86400)] = None,
    held: Held = None, erased: Erased = None,
) -> SearchResult:
    """Turns matching ``q`` in the tenant's calls, best first, with snippets."""
    if "\x00" in q:
        raise access.bad_request("q: NUL is not allowed")
    if view is SearchView.ORIGINAL and who.role is not Role.REVIEWER:
        raise forbidden(who.role.value, "reviewer (for originals)")
    if view is SearchView.REDACTED:
        from services.redaction.reads import search_redacted

        async with st.engine.connect() as conn:
            rows = await search_redacted(conn, who.tenant_id, q, limit=limit,
                                         since=utc(since, "since"), until=utc(until, "until"),
                                         provider=provider, interrupted=interrupted,
                                         has_tool_call=tool_calls, min_ms=_ms(min_duration_s),
                                         max_ms=_ms(max_duration_s), held=held, erased=erased)
        return SearchResult(view="redacted", hits=[_hit(r) for r in rows])
    why = access.check_reason(reason, "a search of originals")
    from services.transcripts.reads import SearchFilters
    from services.transcripts.reads import search as run_search

    filters = SearchFilters(tenant=who.tenant_id, since=utc(since, "since"),
                            until=utc(until, "until"), provider=provider, limit=limit,
                            interrupted=interrupted, has_tool_call=tool_calls,
                            min_ms=_ms(min_duration_s), max_ms=_ms(max_duration_s),
                            held=held, erased=erased)
    async with st.engine.connect() as conn:
        rows = await conn.run_sync(lambda c: run_search(c, q, filters))
    hits = [_hit(r) for r in rows]
    await access.record(st, who, "search", "GET /v1/search", reason=why,
                        sessions=sorted({h.session_id for h in hits}), view="original",
                        hits=len(hits))
    return SearchResult(view="original", hits=hits)


def _ms(seconds: int | None) -> int | None:
    return None if seconds is None else seconds * 1000


def _hit(row: dict[str, object]) -> SearchHit:
    return SearchHit.model_validate({k: row.get(k) for k in _FIELDS})
