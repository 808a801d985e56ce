"""Legal holds over HTTP: ``POST /v1/holds``, ``GET /v1/holds``, ``POST /v1/holds/{id}/release``.

The same functions as ``voxledger hold place|release|list`` (``services/retention/actions.py``:
the hold and its journal event commit, then the S3 legal holds follow). The actor recorded is
``token:<token name>``. A session hold needs a session of the token's tenant (another tenant's
or nobody's is 404, where the CLI would warn and hold it ahead); a hold id of another tenant is
404. Responses never carry a subject's identifier, nor its HMAC.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.api import Hold, HoldList
from services.api.auth import allow
from services.api.lookup import session_known
from services.api.params import SESSION_PATTERN
from services.api.problems import ApiProblem, bad_request, not_found, problem_responses
from services.api.state import St
from services.api.tokens import Principal, Role

router = APIRouter(prefix="/holds", tags=["holds"])
PLACERS = allow(Role.REVIEWER, Role.ADMIN)
READERS = allow(Role.REVIEWER, Role.ADMIN, Role.AUDITOR)
HoldId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="hold id")]
# The retention capability's own rules (services/retention/holds.py), said in the schema.
_MATTER = r"^[A-Za-z0-9][A-Za-z0-9 ._:/#()&,-]{0,127}$"
_ONE_LINE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


class SubjectKind(StrEnum):
    PHONE = "phone_e164"
    EMAIL = "email"
    CUSTOMER_ID = "customer_id"


class Subject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SubjectKind
    value: str = Field(min_length=1, max_length=254, description="normalised, never stored")


class PlaceHold(BaseModel):
    """Exactly one of ``session_id``, ``subject`` or ``all: true``, with the matter and why."""

    model_config = ConfigDict(extra="forbid")

    session_id: str | None = Field(default=None, pattern=SESSION_PATTERN)
    subject: Subject | None = None
    all: Literal[True] | None = Field(default=None, description="every session of the tenant, "
                                      "including later ones")
    matter: str = Field(pattern=_MATTER, description="the legal matter (no personal data)")
    reason: str = Field(max_length=1000, pattern=_ONE_LINE,
                        description="why (recorded in the ledger)")

    @model_validator(mode="after")
    def _one_target(self) -> PlaceHold:
        if sum(x is not None for x in (self.session_id, self.subject, self.all)) != 1:
            raise ValueError("give exactly one of session_id, subject or all")
        return self


class ReleaseHold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=1000, pattern=_ONE_LINE,
                        description="why (recorded in the ledger)")


def actor(who: Principal) -> str:
    return f"token:{who.name}"


def _hold(h: dict[str, Any]) -> Hold:
    return Hold(**{k: h[k] for k in Hold.model_fields})


@router.post("", response_model=Hold, status_code=201,
             responses=problem_responses(400, 401, 403, 404, 422, 429))
async def place(req: PlaceHold, who: Annotated[Principal, Depends(PLACERS)], st: St) -> Hold:
    """Place a legal hold: retention skips what it covers, erasure refuses it, its S3 objects
    get an object-lock legal hold. Sealed in the ledger as ``hold.placed``."""
    from services.retention import actions
    from services.retention.holds import HoldError, Target

    if req.session_id is not None:
        if not await session_known(st, who.tenant_id, req.session_id):
            raise not_found()
        target = Target("session", session_id=req.session_id)
    elif req.subject is not None:
        target = Target("subject", subject_kind=req.subject.kind.value,
                        subject_value=req.subject.value)
    else:
        target = Target("tenant")
    try:
        made = await actions.place(st.forget(), who.tenant_id, target, req.matter, req.reason,
                                   actor(who))
    except HoldError as exc:  # its messages name options and rules, never a value
        raise bad_request(str(exc).removeprefix("--")) from None
    return _hold(made)


@router.get("", response_model=HoldList, responses=problem_responses(401, 403, 404, 422, 429))
async def list_(
    who: Annotated[Principal, Depends(READERS)], st: St,
    active: Annotated[bool | None, Query(description="only active (true) or released (false)")]
    = None,
    session_id: Annotated[str | None, Query(
        pattern=SESSION_PATTERN, description="only the active holds covering this session now "
        "(by session, subject or tenant)")] = None,
) -> HoldList:
    """The tenant's holds, oldest first: matter, reason, who placed and released them."""
    from services.retention.holds import holds_on, list_holds

    if session_id is not None and not await session_known(st, who.tenant_id, session_id):
        raise not_found()
    async with st.engine.connect() as conn:
        rows = await list_holds(conn, who.tenant_id, active_only=active is True)
        if session_id is not None:
            covering = {h["hold_id"] for h in await holds_on(conn, who.tenant_id, session_id)}
            rows = [h for h in rows if h["hold_id"] in covering]
    if active is False:
        rows = [h for h in rows if not h["active"]]
    return HoldList(holds=[_hold(h) for h in rows])


@router.post("/{hold_id}/release", response_model=Hold,
             responses=problem_responses(400, 401, 403, 404, 409, 422, 429))
async def release(hold_id: HoldId, req: ReleaseHold,
                  who: Annotated[Principal, Depends(PLACERS)], st: St) -> Hold:
    """Release a hold (sealed as ``hold.released``); S3 legal holds come off the objects no
    other hold covers."""
    from services.retention import actions
    from services.retention.holds import HoldError, list_holds

    async with st.engine.connect() as conn:
        found = [h for h in await list_holds(conn, who.tenant_id) if h["hold_id"] == hold_id]
    if not found:
        raise not_found("hold")
    if not found[0]["active"]:
        raise _released()
    try:
        done = await actions.release(st.forget(), hold_id, req.reason, actor(who))
    except HoldError:  # released by someone else meanwhile (the only error left)
        raise _released() from None
    return _hold(done)


def _released() -> ApiProblem:
    return ApiProblem(409, "hold-released", "Already released", "this hold was already released")
