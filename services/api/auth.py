"""Bearer tokens → a :class:`Principal`; the role check and the per-token rate limit.

Order: a missing or bad token is 401; a known token over its rate is 429; a role the route does
not allow is 403 (for every id alike, so a 403 reveals nothing about what exists); only then
does the route look anything up, in the token's tenant only (404 for every other id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api import token_repo
from services.api.problems import ApiProblem, forbidden
from services.api.state import ApiState, state
from services.api.tokens import Principal, Role, matches, parse

bearer = HTTPBearer(auto_error=False, description="an API token: `voxledger tokens create`")


def _unauthorized(detail: str) -> ApiProblem:
    return ApiProblem(401, "unauthorized", "Unauthorized", detail,
                      {"WWW-Authenticate": 'Bearer realm="voxledger"'})


async def principal(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None,
                                                      Depends(bearer)]) -> Principal:
    if creds is None or creds.scheme.lower() != "bearer":
        raise _unauthorized("send `Authorization: Bearer <token>`")
    parsed = parse(creds.credentials)
    if parsed is None:
        raise _unauthorized("the token is malformed")
    st: ApiState = state(request)
    async with st.engine.connect() as conn:
        row = await token_repo.find(conn, parsed[0])
    if row is None or not matches(parsed[1], row.secret_sha256):
        raise _unauthorized("the token is unknown or revoked")
    wait = st.limiter.take(row.token_id)
    if wait > 0:
        retry = st.limiter.retry_after(wait)
        raise ApiProblem(429, "rate-limited", "Too many requests",
                         f"this token's rate limit is reached; retry after {retry} s",
                         {"Retry-After": retry})
    return Principal(row.token_id, row.tenant_id, Role(row.role), row.name)


def allow(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only ``roles``."""
    names = ", ".join(r.value for r in roles)

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in roles:
            raise forbidden(who.role.value, names)
        return who
    return check
