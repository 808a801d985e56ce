"""``GET /v1/me`` (who the token is) and ``GET /v1/tokens`` (admin: the tenant's tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.api import token_repo
from services.api.auth import allow, principal
from services.api.problems import problem_responses
from services.api.state import St
from services.api.tokens import Principal, Role

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
