"""The console's sign-in and search pages, its static files, and :func:`install`.

Every page is rendered on the server from what the API returns to the signed-in token; see
``client.py`` (no role rules here) and ``web.py`` (cookie, CSRF).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, Response

from schemas.envelope import Provider
from services.api.console import session_routes, web
from services.api.console.client import Api
from services.api.console.pages import (
    HERE,
    SECURITY_HEADERS,
    ConsoleProblem,
    SignInNeeded,
    caller,
    page,
    problem_page,
    redirect,
)
from services.api.console.views import snippet_pieces

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE: Final = 20
MAX_HITS: Final = 200  # the API's bound on one search: 10 pages
STATIC: Final = {"console.css": "text/css", "session.js": "text/javascript",
                 "favicon.svg": "image/svg+xml"}
PROVIDERS: Final = [p.value for p in Provider]


@router.get("")
async def home(request: Request) -> Response:
    return redirect("/console/search" if request.cookies.get(web.COOKIE) else "/console/sign-in")


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    value = web.new_presign()
    res = page(request, "sign_in.html", {"who": None, "csrf": value, "error": None})
    web.set_presign(res, request, value)
    return res


@router.post("/sign-in")
async def sign_in(request: Request, token: Annotated[str, Form(max_length=200)] = "",
                  csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    web.check_csrf(request, request.cookies.get(web.PRE_COOKIE, ""), csrf)
    me = await Api(request.app, token.strip()).get("/v1/me") if token.strip() else None
    if me is None or not me.ok:
        value = web.new_presign()
        error = ("Enter your API token." if me is None else
                 "That token is unknown, revoked or malformed." if me.status == 401 else me.detail)
        res = page(request, "sign_in.html", {"who": None, "csrf": value, "error": error},
                   status=400 if me is None else me.status)
        web.set_presign(res, request, value)
        return res
    done = redirect("/console/search")
    web.set_token(done, request, token.strip())
    return done


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    token = request.cookies.get(web.COOKIE, "")
    web.check_csrf(request, web.csrf_for(token), csrf)
    res = redirect("/console/sign-in")
    web.clear(res)
    return res


def _day(value: str | None, end: bool = False) -> str | None:
    """A date input's ``YYYY-MM-DD`` as a UTC instant (the next midnight for an end date)."""
    if not value:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(d + timedelta(days=1 if end else 0), time()).isoformat() + "Z"


@router.get("/search")
async def search(
    request: Request, q: Annotated[str, Query(max_length=500)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    provider: Annotated[str, Query(max_length=32)] = "",
    interrupted: Annotated[str, Query(max_length=3)] = "",
    tools: Annotated[str, Query(max_length=3)] = "",
    min_s: Annotated[str, Query(max_length=5)] = "",
    max_s: Annotated[str, Query(max_length=5)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_HITS)] = 1,
    per: Annotated[int, Query(ge=2, le=50)] = PAGE_SIZE,
    cursor: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    who = await caller(request)
    params: dict[str, Any] = {"since": _day(since), "until": _day(until, end=True),
                              "provider": provider if provider in PROVIDERS else None}
    words: dict[str, Any] = {"interrupted": _yes_no(interrupted), "tool_calls": _yes_no(tools),
                             "min_duration_s": _seconds(min_s), "max_duration_s": _seconds(max_s)}
    filters: dict[str, Any] = {
        "since": since, "until": until, "provider": provider, "interrupted": interrupted,
        "tools": tools, "min_s": words["min_duration_s"] or "",
        "max_s": words["max_duration_s"] or ""}
    ctx: dict[str, Any] = {"who": who, "q": q, **filters, "providers": PROVIDERS,
                           "page": page_no, "hits": [], "sessions": [], "more": False,
                           "next_cursor": None,
                           "word_filters": any(v is not None for v in words.values())}
    if per != PAGE_SIZE:
        filters["per"] = per
    ctx["query"] = urlencode({"q": q, **filters})
    if q.strip():
        # The API returns the best ``limit`` hits: ask for this page and one more hit.
        page_no = min(page_no, MAX_HITS // per)
        want = min(MAX_HITS, page_no * per + 1)
        found = await who.api.get("/v1/search", {"q": q, "limit": want, **params, **words})
        if found.status == 403:
            ctx["refused"] = found.detail
            return page(request, "search.html", ctx, status=403)
        if not found.ok:
            return problem_page(request, who, found)
        hits = found.body["hits"]
        ctx["view"] = found.body["view"]
        ctx["page"] = page_no
        ctx["hits"] = [{**h, "pieces": snippet_pieces(h["snippet"])}
                       for h in hits[(page_no - 1) * per:page_no * per]]
        ctx["more"] = len(hits) > page_no * per and page_no * per < MAX_HITS
    else:
        listed = await who.api.get("/v1/sessions", {"limit": PAGE_SIZE, "cursor": cursor or None,
                                                    **params})
        if listed.status == 403:
            ctx["sessions_refused"] = listed.detail
        elif not listed.ok:
            return problem_page(request, who, listed)
        else:
            ctx["sessions"] = listed.body["sessions"]
            ctx["next_cursor"] = listed.body["next_cursor"]
    return page(request, "search.html", ctx)


def _seconds(value: str) -> int | None:
    """A number field's text (empty when not filled in); anything else is no filter."""
    return int(value) if value.isdigit() and int(value) <= 86400 else None


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    res = FileResponse(HERE / "static" / name, media_type=STATIC[name])
    res.headers.update({k: v for k, v in SECURITY_HEADERS.items() if k != "Cache-Control"})
    return res


def install(app: FastAPI) -> None:
    """Mount the console on the API app: ``install(app)`` after ``create_app``."""
    from fastapi.responses import HTMLResponse

    app.include_router(router)
    app.include_router(session_routes.router)

    async def to_sign_in(request: Request, exc: Exception) -> Response:
        return redirect("/console/sign-in")

    async def refused(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ConsoleProblem):
            return problem_page(request, None, exc.answer)
        return HTMLResponse("", status_code=500)

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        res = page(request, "problem.html", {"who": None, "status": 403, "title": "Refused",
                                             "detail": str(exc)}, status=403)
        return res

    app.add_exception_handler(SignInNeeded, to_sign_in)
    app.add_exception_handler(ConsoleProblem, refused)
    app.add_exception_handler(web.CsrfError, csrf_refused)
