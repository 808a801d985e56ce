"""Every route x every role x own tenant / other tenant gives the documented status (README,
"HTTP API"), over real HTTP against the recorded world; another tenant's ids are always 404 for
the roles a route admits, and nothing of another tenant is ever listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.api.tokens import Role
from tests.integration.api_world import World

pytestmark = pytest.mark.integration
A, R, U, D, P = Role.ADMIN, Role.REVIEWER, Role.AUDITOR, Role.DATA, Role.PRIVACY
WHY = {"reason": "matrix test: ticket QA-1"}

# (method, path template, query, roles that get the success status, success status).
# "{sid}" is a session id, "{eid}" a training export id, "{tid}" a token id (to revoke), of the
# tenant under test.
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


BODIES = {"/v1/exports/training": {"format": "jsonl"},
          "/v1/tokens": {"role": "auditor", "name": "matrix"}}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _call(http: httpx.Client, method: str, path: str, query: dict[str, Any],
          token: str) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": query, "headers": _auth(token)}
    if method == "POST":
        kwargs["json"] = BODIES[path]
    return http.request(method, path, **kwargs)


@pytest.mark.parametrize(("method", "path", "query", "allowed", "ok"), ROUTES,
                         ids=[f"{m} {p} {sorted(q)}" for m, p, q, _, _ in ROUTES])
def test_route_by_role_and_tenant(api_world: World, http: httpx.Client, exports: dict[str, str],
                                  victims: dict[str, str], method: str, path: str,
                                  query: dict[str, Any],
                                  allowed: set[Role], ok: int) -> None:
    own, other = api_world.tenants
    for role in Role:
        token = api_world.token(own, role)
        for target in (own, other):
            url = path.format(sid=api_world.sessions[target][0], eid=exports[target],
                              tid=victims[target])
            res = _call(http, method, url, query, token)
            has_id = "{" in path
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
