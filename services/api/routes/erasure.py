"""Erasure requests for the ``privacy`` role (and ``admin``): create, list, status, certificate.

The same functions as ``voxledger erasure request|list|status|certificate``. Creating a request
records it (``erasure.requested``, or ``erasure.refused`` at once when a legal hold covers every
session it names) and returns 202: the erasure worker of ``voxledger run`` carries it out, as it
does for ``voxledger erasure request`` without ``--wait``; poll the status.

A subject's request answers the same whether or not any session matches (issue 17 item 5): the
202 body holds the request's id, kind, state and deadline, never its sessions. A ``session_id``
that is not the tenant's is 404, as everywhere else. The certificate (the signed statement and
its inclusion proof) is a read of erasure records: sealed as ``access.certificate`` first.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.api import ErasureAccepted, ErasureList, ErasureStatus, ErasureSummary
from services.api import access
from services.api.auth import allow
from services.api.lookup import session_known
from services.api.params import SESSION_PATTERN
from services.api.problems import ApiProblem, bad_request, not_found, problem_responses
from services.api.state import ApiState, St
from services.api.tokens import Principal, Role

router = APIRouter(prefix="/erasure-requests", tags=["erasure"])
PRIVACY = allow(Role.PRIVACY, Role.ADMIN)
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="erasure request id")]
_IDENTIFIER = Field(default=None, min_length=1, max_length=254)
# Seconds a certificate request waits for the sealer to sign a checkpoint covering the
# completion (usually one sealer tick); after that, 409: ask again.
CERTIFICATE_WAIT_S = 10.0


class NewErasure(BaseModel):
    """Exactly one identifier of the data subject, or one session id; ``reference`` is the
    portal's or staff's note (a ticket number, no personal data)."""

    model_config = ConfigDict(extra="forbid")

    phone_e164: str | None = Field(default=None, min_length=1, max_length=254,
                                   description="phone number, with its country code")
    email: str | None = _IDENTIFIER
    customer_id: str | None = _IDENTIFIER
    session_id: str | None = Field(default=None, pattern=SESSION_PATTERN)
    reference: str | None = Field(default=None, max_length=200,
                                  pattern=r"^[^\x00-\x1f\x7f]*$")

    @model_validator(mode="after")
    def _exactly_one(self) -> NewErasure:
        given = (self.phone_e164, self.email, self.customer_id, self.session_id)
        if sum(x is not None for x in given) != 1:
            raise ValueError("give exactly one of phone_e164, email, customer_id or session_id")
        return self


class Kind(StrEnum):
    PHONE = "phone_e164"
    EMAIL = "email"
    CUSTOMER_ID = "customer_id"


@router.post("", response_model=ErasureAccepted, status_code=202,
             responses=problem_responses(400, 401, 403, 404, 422, 429))
async def create(req: NewErasure, who: Annotated[Principal, Depends(PRIVACY)],
                 st: St) -> ErasureAccepted:
    """Record an erasure request (GDPR Art. 17); the erasure worker carries it out. The answer
    does not say whether any session matched."""
    from services.erasure.identifiers import IdentifierError, parse
    from services.erasure.service import ErasureError, request_erasure
    from services.retention.holds import Holds

    sessions: list[str] = []
    ids = []
    if req.session_id is not None:
        if not await session_known(st, who.tenant_id, req.session_id):
            raise not_found()
        sessions = [req.session_id]
    else:
        kind, raw = next((k, v) for k, v in ((Kind.PHONE, req.phone_e164), (Kind.EMAIL, req.email),
                                             (Kind.CUSTOMER_ID, req.customer_id)) if v is not None)
        try:
            ids = [parse(kind.value, raw)]
        except IdentifierError as exc:  # names the kind and the rule, never the value
            raise bad_request(str(exc)) from None
    try:
        made = await request_erasure(st.forget(), who.tenant_id, ids, sessions, req.reference,
                                     Holds())
    except ErasureError:  # the session went between the check and the request
        raise not_found() from None
    info = await _status(st, who.tenant_id, made.request_id)
    return ErasureAccepted(**{k: info[k] for k in ErasureAccepted.model_fields})


@router.get("", response_model=ErasureList, responses=problem_responses(401, 403, 422, 429))
async def list_(who: Annotated[Principal, Depends(PRIVACY)], st: St,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> ErasureList:
    """The tenant's requests, newest first, with their deadline and whether overdue."""
    from services.erasure.status import list_statuses

    async with st.engine.connect() as conn:
        rows = await list_statuses(conn, who.tenant_id, limit, st.clock.now())
    return ErasureList(requests=[ErasureSummary(**{k: r[k] for k in ErasureSummary.model_fields})
                                 for r in rows])


async def _status(st: ApiState, tenant: str, rid: str) -> dict[str, Any]:
    from services.erasure.status import request_status

    async with st.engine.connect() as conn:
        info = await request_status(conn, rid, st.clock.now())
    if info is None or info["tenant_id"] != tenant:
        raise not_found("erasure request")
    return info


@router.get("/{request_id}", response_model=ErasureStatus,
            responses=problem_responses(401, 403, 404, 422, 429))
async def status(request_id: RequestId, who: Annotated[Principal, Depends(PRIVACY)],
                 st: St) -> ErasureStatus:
    """A request's state, sessions, per-store counts, residue scan and deadline; when refused,
    why (the legal hold's matter)."""
    info = await _status(st, who.tenant_id, request_id)
    return ErasureStatus(**{k: info[k] for k in ErasureStatus.model_fields})


@router.get("/{request_id}/certificate", response_model=dict[str, Any],
            responses=problem_responses(401, 403, 404, 409, 422, 429, 503))
async def certificate(request_id: RequestId, who: Annotated[Principal, Depends(PRIVACY)],
                      st: St) -> dict[str, Any]:
    """The signed erasure certificate of a completed request (check it offline with
    ``voxledger erasure verify-certificate``). 409 while the request is open or until the
    sealer has signed a checkpoint covering its completion."""
    from services.erasure.issue import IssueError, issue_certificate
    from services.ledger.journal import JournalError

    info = await _status(st, who.tenant_id, request_id)
    if info["status"] != "completed":
        raise ApiProblem(409, "erasure-not-completed", "Not completed",
                         f"the request is {info['status']}; certificates are issued for "
                         "completed requests")
    try:
        cert = await issue_certificate(st.forget(), request_id, CERTIFICATE_WAIT_S)
    except (IssueError, JournalError):
        raise ApiProblem(409, "certificate-pending", "Not certified yet",
                         "no signed checkpoint covers the completion yet; try again shortly "
                         "(is the sealer running?)") from None
    await access.record(st, who, "certificate", "GET /v1/erasure-requests/{request_id}/"
                        "certificate", reason=None, sessions=list(info["sessions"]),
                        request_id=request_id)
    return cert
