"""The search page: redacted snippets by default (``GET``), the original words with a reason
(``POST``: the reason stays out of URLs and history; the API seals ``access.search``).

Filters are the API's: date range, provider, cut-off agent turns, tool calls, call length.
Pages come from the API's ranked ``limit`` (at most ``MAX_HITS`` hits); without words, the
tenant's calls newest first with the API's cursor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from schemas.envelope import Provider
from services.api.console import web
from services.api.console.pages import Caller, caller, page, problem_page
from services.api.console.views import snippet_pieces

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE: Final = 20
MAX_HITS: Final = 200  # the API's bound on one search: 10 pages of 20
PROVIDERS: Final = [p.value for p in Provider]


@dataclass(frozen=True)
class Filters:
    q: str = ""
    since: str = ""
    until: str = ""
    provider: str = ""
    interrupted: str = ""
    tools: str = ""
    min_s: str = ""
    max_s: str = ""
    per: int = PAGE_SIZE
    held: str = ""
    erased: str = ""

    def api(self) -> dict[str, Any]:
        return {"since": _day(self.since), "until": _day(self.until, end=True),
                "provider": self.provider if self.provider in PROVIDERS else None,
                "held": _yes_no(self.held), "erased": _yes_no(self.erased)}

    def words(self) -> dict[str, Any]:
        """Filters the API applies to word searches only."""
        return {"interrupted": _yes_no(self.interrupted), "tool_calls": _yes_no(self.tools),
                "min_duration_s": _seconds(self.min_s), "max_duration_s": _seconds(self.max_s)}


def _query_filters(
    q: Annotated[str, Query(max_length=500)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    provider: Annotated[str, Query(max_length=32)] = "",
    interrupted: Annotated[str, Query(max_length=3)] = "",
    tools: Annotated[str, Query(max_length=3)] = "",
    min_s: Annotated[str, Query(max_length=5)] = "",
    max_s: Annotated[str, Query(max_length=5)] = "",
    per: Annotated[int, Query(ge=2, le=50)] = PAGE_SIZE,
    held: Annotated[str, Query(max_length=3)] = "",
    erased: Annotated[str, Query(max_length=3)] = "",
) -> Filters:
    return Filters(q, since, until, provider, interrupted, tools, min_s, max_s, per, held, erased)


def _form_filters(
    q: Annotated[str, Form(max_length=500)] = "",
    since: Annotated[str, Form(max_length=10)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
    provider: Annotated[str, Form(max_length=32)] = "",
    interrupted: Annotated[str, Form(max_length=3)] = "",
    tools: Annotated[str, Form(max_length=3)] = "",
    min_s: Annotated[str, Form(max_length=5)] = "",
    max_s: Annotated[str, Form(max_length=5)] = "",
    per: Annotated[int, Form(ge=2, le=50)] = PAGE_SIZE,
    held: Annotated[str, Form(max_length=3)] = "",
    erased: Annotated[str, Form(max_length=3)] = "",
) -> Filters:
    return Filters(q, since, until, provider, interrupted, tools, min_s, max_s, per, held, erased)


@router.get("/search")
async def search(
    request: Request, f: Annotated[Filters, Depends(_query_filters)],
    page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_HITS)] = 1,
    cursor: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    who = await caller(request)
    if f.q.strip():
        return await _words(request, who, f, page_no, None)
    ctx = _context(who, f, None)
    ctx["word_filters"] = any(v is not None for v in f.words().values())
    listed = await who.api.get("/v1/sessions", {"limit": PAGE_SIZE, "cursor": cursor or None,
                                                **f.api()})
    if listed.status == 403:
        ctx["sessions_refused"] = listed.detail
    elif not listed.ok:
        return problem_page(request, who, listed)
    else:
        ctx["sessions"] = listed.body["sessions"]
        ctx["next_cursor"] = listed.body["next_cursor"]
    return page(request, "search.html", ctx)


@router.post("/search")
async def search_originals(
    request: Request, f: Annotated[Filters, Depends(_form_filters)],
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    page_no: Annotated[int, Form(alias="page", ge=1, le=MAX_HITS)] = 1,
) -> Response:
    who = await caller(request)
    web.check_csrf(request, who.csrf, csrf)
    if not reason.strip() or not f.q.strip():
        res = await _words(request, who, f, 1, None,
                           error="Searching the original words needs words and a reason.")
        res.status_code = 422
        return res
    return await _words(request, who, f, page_no, reason)


def _context(who: Caller, f: Filters, reason: str | None) -> dict[str, Any]:
    fields = asdict(f)
    if f.per == PAGE_SIZE:
        del fields["per"]
    return {"who": who, **asdict(f), "providers": PROVIDERS, "page": 1, "hits": [],
            "sessions": [], "more": False, "next_cursor": None, "reason": reason,
            "fields": {k: v for k, v in fields.items() if k != "q"},
            "query": urlencode(fields), "view": "redacted", "can_original": False}


async def _words(request: Request, who: Caller, f: Filters, page_no: int,
                 reason: str | None, error: str | None = None) -> Response:
    ctx = _context(who, f, reason)
    ctx["error"] = error
    # The API returns the best ``limit`` hits: ask for this page and one more hit.
    page_no = min(page_no, MAX_HITS // f.per)
    want = min(MAX_HITS, page_no * f.per + 1)
    params = {"q": f.q, "limit": want, **f.api(), **f.words()}
    if reason is not None:
        params |= {"view": "original", "reason": reason}
    found = await who.api.get("/v1/search", params)
    if found.status == 403:
        ctx["refused"] = found.detail
        return page(request, "search.html", ctx, status=403)
    if found.status == 422 and reason is not None:
        ctx["error"] = found.detail
        return page(request, "search.html", ctx, status=422)
    if not found.ok:
        return problem_page(request, who, found)
    if reason is None:
        # Offered only when the API would take a reason from this token (422, not 403).
        probe = await who.api.get("/v1/search", {"q": f.q, "limit": 1, "view": "original"})
        ctx["can_original"] = probe.status == 422
    hits = found.body["hits"]
    ctx.update(view=found.body["view"], page=page_no,
               hits=[{**h, "pieces": snippet_pieces(h["snippet"])}
                     for h in hits[(page_no - 1) * f.per:page_no * f.per]],
               more=len(hits) > page_no * f.per and page_no * f.per < MAX_HITS)
    return page(request, "search.html", ctx)


def _day(value: str | None, end: bool = False) -> str | None:
    """A date input's ``YYYY-MM-DD`` as a UTC instant (the next midnight for an end date)."""
    if not value:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(d + timedelta(days=1 if end else 0), time()).isoformat() + "Z"


def _seconds(value: str) -> int | None:
    """A number field's text (empty when not filled in); anything else is no filter."""
    return int(value) if value.isdigit() and int(value) <= 86400 else None


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)
