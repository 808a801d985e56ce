"""``GET /v1/sessions/{session_id}/evidence``: a session's evidence bundle (zip), reviewer only.

Made by the same function as ``voxledger evidence export`` (``services/evidence/export.py``,
actor ``token:<token name>``), which seals its custody event (``evidence.exported``) before the
bundle exists; the read itself is sealed as ``access.evidence`` with the reason before a byte of
the bundle is sent. A bundle that fails its own checks is not sent (502).
"""

from __future__ import annotations

from typing import Annotated

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from services.api import access
from services.api.auth import allow
from services.api.lookup import session_known
from services.api.params import RequiredReason, SessionId
from services.api.problems import ApiProblem, not_found, problem_responses
from services.api.state import St
from services.api.tokens import Principal, Role

router = APIRouter(tags=["evidence"])
ZIP = "application/zip"


@router.get("/sessions/{session_id}/evidence",
            responses={**problem_responses(401, 403, 404, 409, 422, 429, 502, 503),
                       200: {"content": {ZIP: {}},
                             "description": "the bundle (verify it with its verify_bundle.py)"}},
            response_class=Response)
async def evidence(session_id: SessionId, who: Annotated[Principal, Depends(allow(Role.REVIEWER))],
                   st: St, reason: RequiredReason) -> Response:
    """The session's evidence bundle: events, audio, transcript, proofs, keys, custody record
    and an offline verifier. Needs a reason; sealed in the access log before it is sent."""
    from services.evidence.collect import BundleError
    from services.evidence.export import export_session

    why = access.check_reason(reason, "an evidence bundle")
    if not await session_known(st, who.tenant_id, session_id):
        raise not_found()
    try:
        data, summary = await export_session(st.settings, who.tenant_id, session_id, why,
                                             f"token:{who.name}")
    except BundleError:  # no sealed entries or no WORM checkpoint yet (the message names ids)
        raise ApiProblem(409, "bundle-not-ready", "Bundle not ready",
                         "the session has no signed checkpoint covering it yet; try again "
                         "after the sealer's next checkpoint") from None
    except (BotoCoreError, ClientError):
        raise ApiProblem(502, "store-failed", "Bundle failed",
                         "the object store did not return the session's objects") from None
    if not summary["verified"]:
        raise ApiProblem(502, "bundle-unverified", "Bundle did not verify",
                         "the bundle failed its own checks; run `voxledger verify`")
    await access.record(st, who, "evidence", "GET /v1/sessions/{session_id}/evidence",
                        reason=why, sessions=[session_id],
                        custody_position=summary["custody_position"], bytes=len(data))
    return Response(data, media_type=ZIP, headers={
        "Content-Disposition": f'attachment; filename="{session_id}.zip"',
        "Cache-Control": "no-store"})
