"""The privacy queue: the tenant's erasure requests with their status, a form to submit one,
one request's page (refusals name the legal holds' matters) and its certificate.

The API decides (``/v1/erasure-requests``, for ``privacy`` and ``admin`` tokens): what an
identifier may look like, which calls it finds, and whether a legal hold refuses the erasure.
An identifier travels in a POST body only, never in a URL, and the console keeps no copy.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from services.api.console import web
from services.api.console.client import Answer
from services.api.console.legal import ERASURE_KINDS, erasure_body, erasure_row
from services.api.console.pages import (
    SECURITY_HEADERS,
    Caller,
    caller,
    page,
    problem_page,
    redirect,
)

router = APIRouter(prefix="/console", include_in_schema=False)
_RID: Final = re.compile(r"^[A-Za-z0-9-]{1,64}$")
REFUSALS_READ: Final = 50  # refused requests whose refusal the list page fetches


def _not_found() -> Answer:
    return Answer(404, {"detail": "no such erasure request in this tenant"}, {})


@router.get("/privacy")
async def queue(request: Request) -> Response:
    who = await caller(request)
    return await _queue(request, who)


async def _queue(request: Request, who: Caller, error: str | None = None, kind: str = "",
                 status: int = 200) -> Response:
    listed = await who.api.get("/v1/erasure-requests")
    if not listed.ok:
        return problem_page(request, who, listed)
    rows = [erasure_row(r) for r in listed.body["requests"]]
    # The list may leave out why a request was refused; one request's status says it.
    missing = [r.request_id for r in rows if r.status == "refused" and not r.refusal]
    details = await asyncio.gather(*(who.api.get(f"/v1/erasure-requests/{rid}")
                                     for rid in missing[:REFUSALS_READ]))
    found = {d.body["request_id"]: erasure_row(d.body) for d in details if d.ok}
    rows = [found.get(r.request_id, r) for r in rows]
    return page(request, "privacy.html", {"who": who, "rows": rows, "kinds": ERASURE_KINDS,
                                          "kind": kind, "error": error}, status=status)


@router.post("/privacy/requests")
async def submit(request: Request, kind: Annotated[str, Form(max_length=20)] = "",
                 value: Annotated[str, Form(max_length=300)] = "",
                 csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = await caller(request)
    web.check_csrf(request, who.csrf, csrf)
    body = erasure_body(kind, value)
    if body is None:
        return await _queue(request, who, "Choose what identifies the person and fill it in.",
                            kind, 422)
    made = await who.api.post("/v1/erasure-requests", body)
    if not made.ok:
        # The API's words (they never repeat the identifier); the form is not refilled.
        return await _queue(request, who, made.detail, kind,
                            made.status if made.status >= 400 else 502)
    return redirect(f"/console/privacy/requests/{made.body['request_id']}")


@router.get("/privacy/requests/{rid}")
async def one(request: Request, rid: str) -> Response:
    who = await caller(request)
    if not _RID.match(rid):
        return problem_page(request, who, _not_found())
    got = await who.api.get(f"/v1/erasure-requests/{rid}")
    if not got.ok:
        return problem_page(request, who, got)
    return page(request, "erasure.html", {"who": who, "r": erasure_row(got.body),
                                          "stores": _stores(got.body)})


@router.get("/privacy/requests/{rid}/certificate")
async def certificate(request: Request, rid: str) -> Response:
    who = await caller(request)
    if not _RID.match(rid):
        return problem_page(request, who, _not_found())
    got = await who.api.get(f"/v1/erasure-requests/{rid}/certificate", raw=True)
    if not got.ok:
        return problem_page(request, who, got)
    body = got.body if isinstance(got.body, bytes) else json.dumps(got.body).encode()
    media = got.headers.get("content-type", "application/json").split(";")[0]
    headers = {**SECURITY_HEADERS,
               "Content-Disposition": f'attachment; filename="erasure-certificate-{rid}.json"'}
    return Response(body, media_type=media, headers=headers)


def _stores(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    stores = body.get("stores") or {}
    return sorted(stores.items()) if isinstance(stores, dict) else []
