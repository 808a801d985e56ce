"""The console's sign-in and search pages, its static files, and :func:`install`.

Every page is rendered on the server from what the API returns to the signed-in token; see
``client.py`` (no role rules here) and ``web.py`` (cookie, CSRF).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import FileResponse, Response

from services.api.console import (
    evidence_routes,
    holds_routes,
    privacy_routes,
    search_routes,
    session_routes,
    web,
)
from services.api.console.client import Api
from services.api.console.pages import (
    HERE,
    SECURITY_HEADERS,
    ConsoleProblem,
    SignInNeeded,
    page,
    problem_page,
    redirect,
)

router = APIRouter(prefix="/console", include_in_schema=False)
STATIC: Final = {"console.css": "text/css", "session.js": "text/javascript",
                 "favicon.svg": "image/svg+xml"}
LANDING: Final = {"privacy": "/console/privacy"}


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
    # Where the role's work is (the API still decides what each page shows).
    done = redirect(LANDING.get(me.body["role"], "/console/search"))
    web.set_token(done, request, token.strip())
    return done


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    token = request.cookies.get(web.COOKIE, "")
    web.check_csrf(request, web.csrf_for(token), csrf)
    res = redirect("/console/sign-in")
    web.clear(res)
    return res


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
    app.include_router(search_routes.router)
    app.include_router(session_routes.router)
    app.include_router(holds_routes.router)
    app.include_router(evidence_routes.router)
    app.include_router(privacy_routes.router)

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
