"""Shared plumbing of the console's pages: templates, the signed-in caller, responses.

A signed-in caller is whoever ``GET /v1/me`` says the cookie's token is: the API's own token
check, rate limit and revocation apply to every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.api.console import web
from services.api.console.client import Answer, Api
from services.api.console.views import clock

HERE: Final = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["clock"] = clock
# No inline script or style anywhere: the pages work under a strict policy.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                "img-src 'self'; media-src 'self' blob:; connect-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes Chromium send Origin: null
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Caller:
    token: str
    token_id: str
    tenant_id: str
    role: str
    name: str
    api: Api

    @property
    def csrf(self) -> str:
        return web.csrf_for(self.token)


class SignInNeeded(Exception):
    """No cookie, or the API refused its token (revoked, malformed): back to the sign-in page."""


class ConsoleProblem(Exception):
    """An API refusal to show as a page (403, 404, 422, 429, ...)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.detail)
        self.answer = answer


def app_of(request: Request) -> FastAPI:
    found: FastAPI = request.app
    return found


async def caller(request: Request) -> Caller:
    token = request.cookies.get(web.COOKIE)
    if not token:
        raise SignInNeeded()
    api = Api(app_of(request), token)
    me = await api.get("/v1/me")
    if me.status == 401:
        raise SignInNeeded()
    if not me.ok:
        raise ConsoleProblem(me)
    b = me.body
    return Caller(token, b["token_id"], b["tenant_id"], b["role"], b["name"], api)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    res = templates.TemplateResponse(request, name, context, status_code=status)
    res.headers.update(SECURITY_HEADERS)
    return res


def problem_page(request: Request, who: Caller | None, answer: Answer) -> HTMLResponse:
    titles = {403: "Not permitted", 404: "Not found", 410: "Erased", 429: "Too many requests"}
    return page(request, "problem.html", {
        "who": who, "status": answer.status,
        "title": titles.get(answer.status, "Could not load this page"),
        "detail": answer.detail}, status=answer.status if answer.status >= 400 else 502)


def redirect(url: str) -> Response:
    res = RedirectResponse(url, status_code=303)
    res.headers.update(SECURITY_HEADERS)
    return res
