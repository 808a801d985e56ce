"""The session page: redacted by default, the original with a reason, and listening.

What the page offers is what the API grants the token: "show original" and the player appear
only when the API answers a reason-less request for them with "a reason is needed" (422) rather
than "not for your role" (403). Those probes read nothing: the API checks the role, then the
reason, before it looks anything up.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Form, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from services.api.console import web
from services.api.console.client import Answer
from services.api.console.ledger_badge import badge
from services.api.console.legal import hold_row
from services.api.console.pages import (
    SECURITY_HEADERS,
    Caller,
    SignInNeeded,
    caller,
    page,
    problem_page,
)
from services.api.console.tickets import Tickets
from services.api.console.views import session_view
from services.api.console.waveform import peaks
from services.api.params import SESSION_PATTERN
from services.api.state import state

router = APIRouter(prefix="/console", include_in_schema=False)
_SID: Final = re.compile(SESSION_PATTERN)
ACCESS_LOG_PAGE: Final = 500
ACCESS_LOG_PAGES: Final = 10  # the API pages the log oldest first; a page view reads ≤ 5,000
HISTORY_SHOWN: Final = 100
tickets = Tickets()


def _not_found() -> Answer:
    return Answer(404, {"detail": "no such session in this tenant"}, {})


async def render(request: Request, who: Caller, sid: str, detail: Answer,
                 error: str | None = None, status: int = 200, *,
                 hold_error: str | None = None, evidence_error: str | None = None) -> Response:
    """The session page from the API's ``detail``; the errors are shown where they belong."""
    if not detail.ok:
        return problem_page(request, who, detail)
    body = detail.body
    path = f"/v1/sessions/{sid}"
    listen, original, (history, refused, partial), holds, hold_probe, evidence = \
        await asyncio.gather(
            who.api.get(f"{path}/audio"), who.api.get(path, {"view": "original"}),
            _history(who, sid),
            who.api.get("/v1/holds", {"active": "true", "session_id": sid}),
            # Reason-less and body-less probes: the API checks the role first (403), then the
            # request (422), and only then looks anything up or changes anything.
            who.api.post("/v1/holds", {}), who.api.get(f"{path}/evidence"))
    heard = (body.get("audio") or {}).get("heard")
    st = state(request)
    from services.ledger.trust import Trust
    from services.platform.signing import PublicKeys

    trust = Trust.local(PublicKeys.load(st.settings.signing_keys_dir))
    ledger = await badge(st.engine, trust, who.tenant_id, sid)
    return page(request, "session.html", {
        "who": who, "s": body, "v": session_view(body), "sid": sid, "ledger": ledger,
        "can_listen": listen.status == 422 and heard is not None and heard["status"] == "complete",
        "recording_state": None if listen.status != 422 else (
            "no recording" if heard is None else
            None if heard["status"] == "complete" else "the recording is still being made"),
        "listen_refused": listen.detail if listen.status == 403 else None,
        "can_original": original.status == 422, "history": history,
        "history_refused": refused, "history_partial": partial, "error": error,
        "holds": [hold_row(h) for h in holds.body["holds"]] if holds.ok else None,
        "holds_refused": None if holds.ok else holds.detail,
        "can_hold": hold_probe.status == 422, "hold_error": hold_error,
        "can_export": evidence.status == 422, "evidence_error": evidence_error},
        status=status)


async def _history(who: Caller, sid: str) -> tuple[list[dict[str, Any]] | None, str | None,
                                                  bool]:
    """(this session's access events newest first, why not shown, whether the log was longer
    than what was read)."""
    found: list[dict[str, Any]] = []
    after = -1
    for _ in range(ACCESS_LOG_PAGES):
        log = await who.api.get("/v1/access-log", {"limit": ACCESS_LOG_PAGE, "after": after})
        if not log.ok:
            return None, log.detail, False
        found += [e for e in log.body["events"] if sid in (e["body"].get("sessions") or [])]
        if log.body["next_after"] is None:
            return found[::-1][:HISTORY_SHOWN], None, False
        after = log.body["next_after"]
    return found[::-1][:HISTORY_SHOWN], None, True


@router.get("/sessions/{sid}")
async def session_page(
    request: Request, sid: str,
    t: Annotated[int | None, Query(ge=0, description="a search hit's turn start (ms)")] = None,
) -> Response:
    """``t`` is read by the page's script (it marks the hit's turn); declared because the app
    refuses undeclared query parameters."""
    who = await caller(request)
    if not _SID.match(sid):
        return problem_page(request, who, _not_found())
    return await render(request, who, sid, await who.api.get(f"/v1/sessions/{sid}"))


@router.post("/sessions/{sid}/original")
async def original_page(request: Request, sid: str,
                        reason: Annotated[str, Form(max_length=500)] = "",
                        csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = await caller(request)
    web.check_csrf(request, who.csrf, csrf)
    if not _SID.match(sid):
        return problem_page(request, who, _not_found())
    if not reason.strip():
        # Never sent without a reason: the API would refuse it too (422), but say it here.
        detail = await who.api.get(f"/v1/sessions/{sid}")
        return await render(request, who, sid, detail,
                             error="Showing the original needs a reason.", status=422)
    detail = await who.api.get(f"/v1/sessions/{sid}", {"view": "original", "reason": reason})
    if detail.status == 422:
        fallback = await who.api.get(f"/v1/sessions/{sid}")
        return await render(request, who, sid, fallback, error=detail.detail, status=422)
    return await render(request, who, sid, detail)


@router.post("/sessions/{sid}/listen")
async def listen(request: Request, sid: str, reason: Annotated[str, Body(embed=True, max_length=500)],
                 x_csrf_token: Annotated[str | None, Header(max_length=200)] = None) -> Response:
    """Fetch the heard recording through the API with the reviewer's reason (sealed as
    ``access.audio``), answer its waveform and a one-use ticket for the bytes."""
    who = await _json_caller(request)
    if who is None:
        return _json({"detail": "you are signed out: sign in again"}, 401)
    web.check_csrf(request, who.csrf, x_csrf_token)
    if not _SID.match(sid):
        return _json({"detail": "no such session in this tenant"}, 404)
    if not reason.strip():
        return _json({"detail": "listening needs a reason"}, 422)
    got = await who.api.get(f"/v1/sessions/{sid}/audio",
                            {"track": "heard", "format": "wav", "reason": reason}, raw=True)
    if not got.ok:
        return _json({"detail": got.detail}, got.status)
    wave = await asyncio.to_thread(peaks, got.body)
    ticket = tickets.put(who.token_id, sid, got.body)
    return _json({"duration_ms": wave.duration_ms, "bin_ms": wave.bin_ms,
                  "caller": wave.caller, "agent": wave.agent,
                  "audio_url": f"/console/play/{ticket}"}, 200)


@router.get("/play/{ticket}")
async def play(request: Request, ticket: str) -> Response:
    who = await _json_caller(request)
    if who is None:
        return _json({"detail": "you are signed out: sign in again"}, 401)
    held = tickets.take(ticket, who.token_id)
    if held is None:
        return _json({"detail": "this recording link was used or has expired; load it again"}, 404)
    headers = {**SECURITY_HEADERS, "Content-Disposition": "inline"}
    return Response(held.body, media_type="audio/wav", headers=headers)


async def _json_caller(request: Request) -> Caller | None:
    """The caller of a script's request: a 401 answer, not the sign-in page, when signed out."""
    try:
        return await caller(request)
    except SignInNeeded:
        return None


def _json(body: dict[str, Any], status: int) -> Response:
    return JSONResponse(body, status_code=status, headers=SECURITY_HEADERS)
