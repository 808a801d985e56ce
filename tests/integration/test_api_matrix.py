"""Every route x every role x own tenant / other tenant gives the documented status (README,
"HTTP API"), over real HTTP against the recorded world; another tenant's ids are always 404 for
the roles a route admits, and nothing of another tenant is ever listed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from services.api.tokens import Role
from services.erasure.context import forget_context
from services.erasure.issue import issue_certificate
from services.erasure.service import run_request
from services.platform.settings import Settings
from tests.integration.api_world import World
from tests.integration.ledger_helpers import TenantSealer

pytestmark = pytest.mark.integration
A, R, U, D, P = Role.ADMIN, Role.REVIEWER, Role.AUDITOR, Role.DATA, Role.PRIVACY
WHY = {"reason": "matrix test: ticket QA-1"}

# (method, path template, query, roles that get the success status, success status).
# "{sid}" is a session id, "{eid}" a training export id, "{tid}" a token id (to revoke), "{rid}"
# a completed erasure request (of no session), "{hid}" a hold placed for this call, of the tenant
# under test; in the path, the query or the body (BODIES).
ROUTES: list[tuple[str, str, dict[str, Any], set[Role], int]] = [
    ("GET", "/v1/me", {}, set(Role), 200),
    ("GET", "/v1/tokens", {}, {A}, 200),
    ("POST", "/v1/tokens", {}, {A}, 201),
    ("DELETE", "/v1/tokens/{tid}", {}, {A}, 204),
    ("GET", "/v1/sessions", {}, {R, D, U}, 200),
    ("GET", "/v1/sessions/{sid}", {}, {R, D, U}, 200),
    ("GET", "/v1/sessions/{sid}", {"view": "redacted"}, {R, D}, 200),
    ("GET", "/v1/sessions/{sid}", {"view": "original", **WHY}, {R}, 200),
    ("GET", "/v1/sessions/{sid}/audio", WHY, {R}, 200),
    ("GET", "/v1/search", {"q": "account"}, {R, D}, 200),
    ("GET", "/v1/search", {"q": "account", "view": "original", **WHY}, {R}, 200),
    ("GET", "/v1/access-log", {}, {U, A}, 200),
    ("GET", "/v1/ledger/verify", {}, {U, A}, 200),
    ("GET", "/v1/ledger/checkpoints", {}, {U, A}, 200),
    ("GET", "/v1/ledger/proofs/inclusion", {"position": 0}, {U, A}, 200),
    ("POST", "/v1/exports/training", {}, {D}, 201),
    ("GET", "/v1/exports/training/{eid}", {}, {D}, 200),
    ("GET", "/v1/exports/training/{eid}/manifest", {}, {D}, 200),
    ("GET", "/v1/sessions/{sid}/evidence", WHY, {R}, 200),
    ("POST", "/v1/holds", {}, {R, A}, 201),
    ("GET", "/v1/holds", {}, {R, A, U}, 200),
    ("GET", "/v1/holds", {"active": "true", "session_id": "{sid}"}, {R, A, U}, 200),
    ("POST", "/v1/holds/{hid}/release", {}, {R, A}, 200),
    ("POST", "/v1/erasure-requests", {}, {P, A}, 202),
    ("GET", "/v1/erasure-requests", {}, {P, A}, 200),
    ("GET", "/v1/erasure-requests/{rid}", {}, {P, A}, 200),
    ("GET", "/v1/erasure-requests/{rid}/certificate", {}, {P, A}, 200),
    ("GET", "/v1/retention", {}, {A, U}, 200),
]


@pytest.fixture(scope="module")
def http(api_world: World) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_world.url, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def exports(api_world: World, http: httpx.Client) -> dict[str, str]:
    """One training export per tenant, started by its data token."""
    out = {}
    for t in api_world.tenants:
        res = http.post("/v1/exports/training", json={"format": "jsonl"},
                        headers=_auth(api_world.token(t, D)))
        assert res.status_code == 201, res.text
        out[t] = res.json()["export_id"]
    return out


@pytest.fixture(scope="module")
def victims(api_world: World, http: httpx.Client) -> dict[str, str]:
    """A spare token per tenant, made by its admin, for the revocation route."""
    out = {}
    for t in api_world.tenants:
        res = http.post("/v1/tokens", json={"role": "data", "name": "spare"},
                        headers=_auth(api_world.token(t, A)))
        assert res.status_code == 201 and res.json()["tenant_id"] == t, res.text
        out[t] = res.json()["token_id"]
    return out


@pytest.fixture(scope="module")
def erasures(api_world: World, http: httpx.Client, settings: Settings) -> dict[str, str]:
    """A completed erasure request per tenant, of an address no session has (so it erases
    nothing), carried out as the worker does, with a checkpoint signed over its completion."""
    out = {}
    for t in api_world.tenants:
        res = http.post("/v1/erasure-requests", json={"email": "nobody@example.invalid"},
                        headers=_auth(api_world.token(t, P)))
        assert res.status_code == 202, res.text
        out[t] = res.json()["request_id"]

    async def complete(tenant: str, rid: str) -> None:
        sealer = TenantSealer(settings, tenant)
        await sealer.start()
        try:
            async with forget_context(settings, with_nats=False) as ctx:
                assert await run_request(ctx, rid) == rid
                await issue_certificate(ctx, rid, 120)  # waits for the sealer's checkpoint
        finally:
            await sealer.stop()
            await sealer.close()

    for t, rid in out.items():
        asyncio.run(complete(t, rid))
    return out


@pytest.fixture(scope="module")
def new_hold(api_world: World, http: httpx.Client) -> Callable[[str], str]:
    """Places a hold on one of ``tenant``'s sessions (by its admin); returns its id."""
    def place(tenant: str) -> str:
        res = http.post("/v1/holds", headers=_auth(api_world.token(tenant, A)), json={
            "session_id": api_world.sessions[tenant][0], "matter": "MATRIX-1",
            "reason": "to be released"})
        assert res.status_code == 201, res.text
        hold_id: str = res.json()["hold_id"]
        return hold_id
    return place


BODIES: dict[str, Any] = {
    "/v1/exports/training": {"format": "jsonl"},
    "/v1/tokens": {"role": "auditor", "name": "matrix"},
    "/v1/holds": {"session_id": "{sid}", "matter": "MATRIX-2", "reason": "matrix test"},
    "/v1/holds/{hid}/release": {"reason": "matrix test"},
    # No id: an identifier no session has (a request for a session would erase the world's).
    "/v1/erasure-requests": {"email": "nobody@example.invalid", "reference": "QA-1"},
}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _call(http: httpx.Client, method: str, template: str, query: dict[str, Any],
          token: str, ids: dict[str, str]) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": _fill(query, ids), "headers": _auth(token)}
    if method == "POST":
        kwargs["json"] = _fill(BODIES[template], ids)
    return http.request(method, template.format(**ids), **kwargs)


@pytest.mark.parametrize(("method", "path", "query", "allowed", "ok"), ROUTES,
                         ids=[f"{m} {p} {sorted(q)}" for m, p, q, _, _ in ROUTES])
def test_route_by_role_and_tenant(api_world: World, http: httpx.Client, exports: dict[str, str],
                                  victims: dict[str, str], erasures: dict[str, str],
                                  new_hold: Callable[[str], str], method: str, path: str,
                                  query: dict[str, Any],
                                  allowed: set[Role], ok: int) -> None:
    own, other = api_world.tenants
    for role in Role:
        token = api_world.token(own, role)
        for target in (own, other):
            ids = {"sid": api_world.sessions[target][0], "eid": exports[target],
                   "tid": victims[target], "rid": erasures[target],
                   "hid": new_hold(target) if "{hid}" in path else ""}
            res = _call(http, method, path, query, token, ids)
            url = path.format(**ids)
            sent = path + repr(query) + (repr(BODIES[path]) if method == "POST" else "")
            has_id = any(f"{{{name}}}" in sent for name in ids)
            if role not in allowed:
                want = 403
            elif target == other and has_id:
                want = 404  # never 403: another tenant's ids do not exist for this token
            else:
                want = ok
            assert res.status_code == want, (role.value, target == own, url, res.text[:300])
            if res.status_code >= 400:
                assert res.headers["content-type"].startswith("application/problem+json")
                problem = res.json()
                assert {"type", "title", "status", "detail"} <= set(problem)
                assert problem["status"] == res.status_code
            if not has_id:
                break  # the token's tenant is implied; "other" is covered by the ids above


def test_lists_hold_only_the_tokens_tenant(api_world: World, http: httpx.Client) -> None:
    for own in api_world.tenants:
        other = next(t for t in api_world.tenants if t != own)
        listed = http.get("/v1/sessions", headers=_auth(api_world.token(own, R))).json()
        assert sorted(s["session_id"] for s in listed["sessions"]) == sorted(
            api_world.sessions[own])
        for view in ({}, {"view": "original", **WHY}):
            hits = http.get("/v1/search", params={"q": "account", **view},
                            headers=_auth(api_world.token(own, R))).json()["hits"]
            assert hits and {h["session_id"] for h in hits} <= set(api_world.sessions[own])
            assert not {h["session_id"] for h in hits} & set(api_world.sessions[other])


def test_pagination_walks_every_session_once(api_world: World, http: httpx.Client) -> None:
    own = api_world.tenants[0]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = http.get("/v1/sessions", params=params,
                        headers=_auth(api_world.token(own, D))).json()
        seen += [s["session_id"] for s in page["sessions"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(api_world.sessions[own])
    bad = http.get("/v1/sessions", params={"cursor": "not-a-cursor"},
                   headers=_auth(api_world.token(own, D)))
    assert bad.status_code == 422


def test_data_never_receives_an_original_turn_or_audio(api_world: World,
                                                       http: httpx.Client) -> None:
    own = api_world.tenants[0]
    token = api_world.token(own, D)
    reviewer = api_world.token(own, R)
    for sid in api_world.sessions[own]:
        original = http.get(f"/v1/sessions/{sid}", params={"view": "original", **WHY},
                            headers=_auth(reviewer)).json()["original"]
        body = http.get(f"/v1/sessions/{sid}", headers=_auth(token))
        assert body.status_code == 200 and body.json()["original"] is None
        redacted = body.json()["redacted"]
        assert redacted is not None and redacted["turns"]
        # Turns whose heard text the redaction changed (they carried PII): not one of them
        # reaches `data`, anywhere in the body.
        kept = {r["text"] for r in redacted["turns"]}
        changed = [t["heard_text"] for t in original["turns"]
                   if t["heard_text"] and t["heard_text"] not in kept]
        assert changed
        assert not [text for text in changed if text in body.text]
        for path, q in ((f"/v1/sessions/{sid}", {"view": "original", **WHY}),
                        (f"/v1/sessions/{sid}/audio", WHY),
                        ("/v1/search", {"q": "account", "view": "original", **WHY})):
            res = http.get(path, params=q, headers=_auth(token))
            assert res.status_code == 403, res.text
            assert "audio" not in res.headers["content-type"]


def test_tokens_missing_malformed_or_revoked_are_401(api_world: World,
                                                     http: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"},
                    {"Authorization": "Bearer vxl_0123456789abcdef_" + "x" * 43}):
        res = http.get("/v1/me", headers=headers)
        assert res.status_code == 401 and res.headers["www-authenticate"].startswith("Bearer")
        assert res.headers["content-type"].startswith("application/problem+json")
