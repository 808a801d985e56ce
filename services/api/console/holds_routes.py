"""Legal holds in the console: place one on a session (matter and reason), release one (a
reason), and the tenant's hold list.

The API decides everything (``POST /v1/holds``, ``POST /v1/holds/{id}/release``,
``GET /v1/holds``): who may place or release, what a matter may look like, and that a hold
and its journal event commit together. A form's success answers with a redirect (reloading the
page does not place a second hold); a refusal shows the API's words on the page it came from.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from services.api.console import web
from services.api.console.client import Answer
from services.api.console.legal import HOLD_COVERS, hold_row, hold_target
from services.api.console.pages import Caller, caller, page, problem_page, redirect
from services.api.console.session_routes import render
from services.api.params import SESSION_PATTERN

router = APIRouter(prefix="/console", include_in_schema=False)
_SID: Final = re.compile(SESSION_PATTERN)
_HOLD_ID: Final = re.compile(r"^[A-Za-z0-9-]{1,64}$")
STATES: Final = {"active": "true", "released": "false", "all": None}


def _not_found(what: str) -> Answer:
    return Answer(404, {"detail": f"no such {what} in this tenant"}, {})


@router.post("/sessions/{sid}/holds")
async def place_hold(request: Request, sid: str,
                     matter: Annotated[str, Form(max_length=200)] = "",
                     reason: Annotated[str, Form(max_length=1000)] = "",
                     csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = await caller(request)
    web.check_csrf(request, who.csrf, csrf)
    if not _SID.match(sid):
        return problem_page(request, who, _not_found("session"))
    if not matter.strip() or not reason.strip():
        return await _session_error(request, who, sid, 422,
                                    "A hold needs a matter and a reason.")
    placed = await who.api.post("/v1/holds", {"session_id": sid, "matter": matter.strip(),
                                              "reason": reason.strip()})
    if not placed.ok:
        return await _session_error(request, who, sid, placed.status, placed.detail)
    return redirect(f"/console/sessions/{sid}#holds")


@router.post("/holds/{hold_id}/release")
async def release_hold(request: Request, hold_id: str,
                       reason: Annotated[str, Form(max_length=1000)] = "",
                       back: Annotated[str, Form(max_length=128)] = "",
                       csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """``back``: the session whose page the form was on (empty: the hold list)."""
    who = await caller(request)
    web.check_csrf(request, who.csrf, csrf)
    if back and not _SID.match(back):
        back = ""
    if not _HOLD_ID.match(hold_id):
        return problem_page(request, who, _not_found("hold"))
    if not reason.strip():
        error = "Releasing a hold needs a reason."
        if back:
            return await _session_error(request, who, back, 422, error)
        return await _list(request, who, "active", error=error, status=422)
    done = await who.api.post(f"/v1/holds/{hold_id}/release", {"reason": reason.strip()})
    if not done.ok:
        if back:
            return await _session_error(request, who, back, done.status, done.detail)
        return await _list(request, who, "active", error=done.detail, status=done.status)
    return redirect(f"/console/sessions/{back}#holds" if back else "/console/holds?state=all")


@router.post("/holds")
async def place_wide_hold(request: Request, covers: Annotated[str, Form(max_length=20)] = "",
                          value: Annotated[str, Form(max_length=300)] = "",
                          matter: Annotated[str, Form(max_length=200)] = "",
                          reason: Annotated[str, Form(max_length=1000)] = "",
                          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """A hold on every call of one caller (by an identifier) or of the whole tenant. The
    identifier goes to the API in the body and is never shown again (the API keeps its HMAC)."""
    who = await caller(request)
    web.check_csrf(request, who.csrf, csrf)
    target = hold_target(covers, value)
    if target is None or not matter.strip() or not reason.strip():
        return await _list(request, who, "active", status=422,
                           error="A hold needs what it covers (an identifier for a caller), a "
                                 "matter and a reason.")
    placed = await who.api.post("/v1/holds", {**target, "matter": matter.strip(),
                                              "reason": reason.strip()})
    if not placed.ok:
        return await _list(request, who, "active", error=placed.detail,
                           status=placed.status if placed.status >= 400 else 502)
    return redirect("/console/holds")


@router.get("/holds")
async def holds_page(request: Request,
                     state: Annotated[str, Query(pattern="^(active|released|all)$")] = "active",
                     ) -> Response:
    who = await caller(request)
    return await _list(request, who, state)


async def _list(request: Request, who: Caller, state: str, error: str | None = None,
                status: int = 200) -> Response:
    listed, probe = await _holds(who, state)
    if not listed.ok:
        return problem_page(request, who, listed)
    return page(request, "holds.html", {
        "who": who, "state": state, "holds": [hold_row(h) for h in listed.body["holds"]],
        "can_hold": probe.status == 422, "error": error, "covers": HOLD_COVERS},
        status=status)


async def _holds(who: Caller, state: str) -> tuple[Answer, Answer]:
    listed = await who.api.get("/v1/holds", {"active": STATES[state]})
    # A body-less probe: the API says 403 (not this role) before 422 (no body), changing nothing.
    probe = await who.api.post("/v1/holds", {})
    return listed, probe


async def _session_error(request: Request, who: Caller, sid: str, status: int,
                         error: str) -> Response:
    detail = await who.api.get(f"/v1/sessions/{sid}")
    return await render(request, who, sid, detail, status=status if status >= 400 else 502,
                        hold_error=error)
