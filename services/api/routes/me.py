"""``GET /v1/me`` (who the token is); the tenant's tokens for ``admin``: list, create, revoke.

An admin manages tokens of its own tenant only; a token id of another tenant is 404. A new
token's secret is in the creation response only. Creating and revoking are sealed in the
tenant's ledger first (``tenant.token_created|revoked``: ids, role, names; never the secret),
so who could read what, and since when, is as tamper-evident as the reads themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from services.api import token_repo
from services.api.auth import allow, principal
from services.api.problems import ApiProblem, bad_request, not_found, problem_responses
from services.api.state import ApiState, St
from services.api.tokens import Principal, Role, TokenError, check_params, new_token

router = APIRouter(tags=["identity"])


class Me(BaseModel):
    token_id: str
    tenant_id: str
    role: Role
    name: str


class TokenInfo(BaseModel):
    token_id: str
    role: str
    name: str
    created_at: str
    revoked_at: str | None


class TokenList(BaseModel):
    tokens: list[TokenInfo]


@router.get("/me", response_model=Me, responses=problem_responses(401, 429))
async def me(who: Annotated[Principal, Depends(principal)]) -> Me:
    """The calling token: its tenant, role and name."""
    return Me(token_id=who.token_id, tenant_id=who.tenant_id, role=who.role, name=who.name)


@router.get("/tokens", response_model=TokenList, responses=problem_responses(401, 403, 429))
async def tokens(who: Annotated[Principal, Depends(allow(Role.ADMIN))],
                 st: St) -> TokenList:
    """The tenant's tokens (never their secrets). Admin only."""
    async with st.engine.connect() as conn:
        rows = await token_repo.list_tokens(conn, who.tenant_id)
    return TokenList(tokens=[TokenInfo(**{k: v for k, v in r.items() if k != "tenant_id"})
                             for r in rows])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    name: str = Field(min_length=1, max_length=64, description="who holds it (access log)")


class NewTokenInfo(BaseModel):
    token: str  # shown once
    token_id: str
    tenant_id: str
    role: Role
    name: str


@router.post("/tokens", response_model=NewTokenInfo, status_code=201,
             responses=problem_responses(400, 401, 403, 422, 429, 503))
async def create_token(req: TokenRequest, who: Annotated[Principal, Depends(allow(Role.ADMIN))],
                       st: St) -> NewTokenInfo:
    """A new token of this tenant; its secret is in this response only. Admin only."""
    try:
        check_params(who.tenant_id, req.role.value, req.name)
    except TokenError as exc:
        raise bad_request(str(exc)) from None
    made = new_token()
    await _seal(st, who, "tenant.token_created", made.token_id, req.role.value, req.name)
    async with st.engine.begin() as conn:
        await token_repo.insert(conn, made.token_id, who.tenant_id, req.role.value, req.name,
                                made.secret_sha256)
    return NewTokenInfo(token=made.token, token_id=made.token_id, tenant_id=who.tenant_id,
                        role=req.role, name=req.name)


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response,
               responses=problem_responses(401, 403, 404, 422, 429, 503))
async def revoke_token(token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")],
                       who: Annotated[Principal, Depends(allow(Role.ADMIN))],
                       st: St) -> Response:
    """Revoke a token of this tenant (refused from its next request on). Admin only."""
    async with st.engine.connect() as conn:
        row = await token_repo.find(conn, token_id)
    if row is None or row.tenant_id != who.tenant_id:
        raise not_found("live token")
    await _seal(st, who, "tenant.token_revoked", token_id, row.role, row.name)
    async with st.engine.begin() as conn:
        done = await token_repo.revoke_in_tenant(conn, who.tenant_id, token_id,
                                                 st.clock.now())
    if not done:
        raise not_found("live token")
    return Response(status_code=204)


async def _seal(st: ApiState, who: Principal, type_: str, token_id: str, role: str,
                name: str) -> None:
    body = {"token_id": token_id, "role": role, "name": name, "by_token": who.name,
            "by_token_id": who.token_id, "at": st.clock.now().isoformat()}
    try:
        await st.seal(who.tenant_id, type_, body)
    except Exception:  # not recorded, not done
        raise ApiProblem(503, "not-recorded", "Change not recorded",
                         "could not record the change in the ledger; nothing was changed") from None
