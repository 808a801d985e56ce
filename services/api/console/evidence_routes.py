"""The evidence bundle of a session, downloaded from its page with a reason.

The console asks ``GET /v1/sessions/{id}/evidence?reason=…`` with the reviewer's token and
hands the zip to the browser as a download; the API checks the role and the reason and records
the export. A POST form keeps the reason out of URLs, history and server logs.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from services.api.console import web
from services.api.console.client import Answer
from services.api.console.pages import SECURITY_HEADERS, caller, problem_page
from services.api.console.session_routes import render
from services.api.params import SESSION_PATTERN

router = APIRouter(prefix="/console", include_in_schema=False)
_SID: Final = re.compile(SESSION_PATTERN)


@router.post("/sessions/{sid}/evidence")
async def export_evidence(request: Request, sid: str,
                          reason: Annotated[str, Form(max_length=500)] = "",
                          csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    who = await caller(request)
    web.check_csrf(request, who.csrf, csrf)
    if not _SID.match(sid):
        return problem_page(request, who, Answer(404, {"detail": "no such session in this "
                                                                 "tenant"}, {}))
    if not reason.strip():
        detail = await who.api.get(f"/v1/sessions/{sid}")
        return await render(request, who, sid, detail, status=422,
                            evidence_error="Exporting an evidence bundle needs a reason.")
    got = await who.api.get(f"/v1/sessions/{sid}/evidence", {"reason": reason.strip()},
                            raw=True)
    if not got.ok:
        detail = await who.api.get(f"/v1/sessions/{sid}")
        return await render(request, who, sid, detail, status=got.status,
                            evidence_error=got.detail)
    headers = {**SECURITY_HEADERS,
               "Content-Disposition": f'attachment; filename="evidence-{sid}.zip"'}
    return Response(got.body, media_type="application/zip", headers=headers)
