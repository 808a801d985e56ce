"""The access log: originals need a reason; the read is sealed in the tenant's ledger (and is
readable back over HTTP and the CLI) before the body is sent; if sealing fails nothing is
returned; `voxledger verify` still passes. Tokens: created, used, revoked; rate limits."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from services.api.app import create_app
from services.api.tokens import Role
from services.platform.settings import Settings
from tests.integration.api_world import World, serve_in_thread

pytestmark = pytest.mark.integration
VOX = [sys.executable, "-m", "services.cli"]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _vox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VOX, *args], capture_output=True, text=True, timeout=600, check=False)


def test_original_needs_a_reason_and_is_sealed_first(api_world: World) -> None:
    own = api_world.tenants[0]
    sid = api_world.sessions[own][1]
    reviewer, auditor = api_world.token(own, Role.REVIEWER), api_world.token(own, Role.AUDITOR)
    with httpx.Client(base_url=api_world.url, timeout=120) as http:
        for bad in ({}, {"reason": ""}, {"reason": "  "}, {"reason": "ab"},
                    {"reason": "x" * 501}, {"reason": "line\nbreak"}, {"reason": "nul\x00"}):
            res = http.get(f"/v1/sessions/{sid}", params={"view": "original", **bad},
                           headers=_auth(reviewer))
            assert res.status_code == 422, (bad, res.text)
            assert "original" not in res.json() and "reason" in res.json()["detail"]
        before = http.get("/v1/access-log", headers=_auth(auditor)).json()["events"]
        why = "subpoena 2026-114, matter M-7"
        res = http.get(f"/v1/sessions/{sid}", params={"view": "original", "reason": why},
                       headers=_auth(reviewer))
        assert res.status_code == 200 and res.json()["original"]["turns"]
        after = http.get("/v1/access-log", headers=_auth(auditor)).json()["events"]
    new = [e for e in after if e["position"] not in {b["position"] for b in before}]
    assert [e["type"] for e in new] == ["access.original"]
    body = new[0]["body"]
    assert body["reason"] == why and body["sessions"] == [sid]
    assert body["role"] == "reviewer" and body["token"] == "test reviewer"
    assert body["route"] == "GET /v1/sessions/{session_id}" and body["result"] == "served"
    # The CLI reads the same sealed event back from the ledger.
    cli = _vox("access-log", "--tenant", own, "--json")
    assert cli.returncode == 0, cli.stderr
    assert any(e["position"] == new[0]["position"] and e["reason"] == why
               for e in json.loads(cli.stdout)["events"])
    verified = _vox("verify", "--tenant", own)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_nothing_is_returned_when_the_access_cannot_be_sealed(api_world: World,
                                                              settings: Settings) -> None:
    async def broken(_tenant: str, _type: str, _body: Mapping[str, Any]) -> None:
        raise OSError("the ledger is unreachable")

    server = serve_in_thread(settings, create_app(settings, seal=broken))
    own = api_world.tenants[0]
    sid = api_world.sessions[own][0]
    token = api_world.token(own, Role.REVIEWER)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            for path, q in ((f"/v1/sessions/{sid}", {"view": "original"}),
                            (f"/v1/sessions/{sid}/audio", {}),
                            ("/v1/search", {"q": "account", "view": "original"})):
                res = http.get(path, params={**q, "reason": "audit of the sealing path"},
                               headers=_auth(token))
                assert res.status_code == 503, res.text
                assert res.json()["detail"] == "could not record access; nothing returned"
                assert res.headers["content-type"].startswith("application/problem+json")
            # Redacted reads are not content reads of originals: they do not need the seal.
            assert http.get(f"/v1/sessions/{sid}", headers=_auth(token)).status_code == 200
    finally:
        server.should_exit = True


def test_token_lifecycle_through_the_cli(api_world: World) -> None:
    own = api_world.tenants[1]
    made = _vox("tokens", "create", "--tenant", own, "--role", "auditor", "--name", "cli test",
                "--json")
    assert made.returncode == 0, made.stderr
    info = json.loads(made.stdout)
    assert info["token"].startswith("vxl_") and info["role"] == "auditor"
    listed = _vox("tokens", "list", "--tenant", own, "--json")
    assert info["token"] not in listed.stdout  # the secret is never shown again
    assert info["token_id"] in listed.stdout
    with httpx.Client(base_url=api_world.url, timeout=60) as http:
        me = http.get("/v1/me", headers=_auth(info["token"]))
        assert me.status_code == 200 and me.json()["tenant_id"] == own
        assert _vox("tokens", "revoke", info["token_id"]).returncode == 0
        assert http.get("/v1/me", headers=_auth(info["token"])).status_code == 401
    assert _vox("tokens", "revoke", info["token_id"]).returncode == 1
    bad = _vox("tokens", "create", "--tenant", own, "--role", "root", "--name", "x")
    assert bad.returncode == 2 and "role must be one of" in bad.stderr


def test_rate_limit_per_token_is_429_with_retry_after(api_world: World,
                                                      settings: Settings) -> None:
    tight = settings.model_copy(update={"api_rate_per_s": 0.01, "api_rate_burst": 3})
    server = serve_in_thread(tight)
    own = api_world.tenants[0]
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            codes = [http.get("/v1/me", headers=_auth(api_world.token(own, Role.DATA))).status_code
                     for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            res = http.get("/v1/me", headers=_auth(api_world.token(own, Role.DATA)))
            assert res.status_code == 429 and int(res.headers["retry-after"]) >= 1
            # Another token has its own bucket.
            other = http.get("/v1/me", headers=_auth(api_world.token(own, Role.AUDITOR)))
            assert other.status_code == 200
    finally:
        server.should_exit = True


def test_an_auditors_proofs_check_with_the_cli(api_world: World) -> None:
    own = api_world.tenants[0]
    auditor = _auth(api_world.token(own, Role.AUDITOR))
    with httpx.Client(base_url=api_world.url, timeout=120) as http:
        cps = http.get("/v1/ledger/checkpoints", headers=auditor).json()
        assert cps["checkpoints"] and cps["vkey"].startswith(cps["origin"] + "+")
        latest = cps["checkpoints"][0]
        proof = http.get("/v1/ledger/proofs/inclusion", params={"position": 1},
                         headers=auditor).json()
        assert proof["size"] == latest["size"] and proof["checkpoint"] == latest["note"]
        status = http.get("/v1/ledger/verify", headers=auditor).json()
        assert status["ok"], status["errors"]
        assert http.get("/v1/ledger/proofs/inclusion", params={"position": 1, "size": 10**9},
                        headers=auditor).status_code == 404
    args = ["proof", "inclusion", "--leaf-hash", proof["leaf_hash"], "--index", "1", "--size",
            str(proof["size"]), "--root", proof["root"]]
    for node in proof["proof"]:
        args += ["--proof", node]
    checked = _vox(*args)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    forged = _vox(*[a if a != proof["root"] else latest["root"][::-1] for a in args])
    assert forged.returncode != 0


def test_token_changes_over_http_are_sealed_first(api_world: World, settings: Settings) -> None:
    import asyncio

    from services.ledger.journal_reads import journal_entries
    from services.platform.db import make_async_engine
    from services.platform.keys import LocalKeyProvider

    own = api_world.tenants[1]
    admin = _auth(api_world.token(own, Role.ADMIN))
    with httpx.Client(base_url=api_world.url, timeout=60) as http:
        made = http.post("/v1/tokens", json={"role": "reviewer", "name": "sealed change"},
                         headers=admin).json()
        assert http.get("/v1/me", headers=_auth(made["token"])).status_code == 200
        assert http.delete(f"/v1/tokens/{made['token_id']}", headers=admin).status_code == 204
        assert http.get("/v1/me", headers=_auth(made["token"])).status_code == 401

    async def read() -> list[tuple[str, dict[str, Any]]]:
        db = make_async_engine(settings, pool_size=1)
        try:
            async with db.connect() as conn:
                found = await journal_entries(conn, LocalKeyProvider.from_file(
                    settings.keyring_path), own, prefix="tenant.", limit=1000)
        finally:
            await db.dispose()
        return [(e.type, e.body) for e in found if e.body["token_id"] == made["token_id"]]

    changes = asyncio.run(read())
    assert [t for t, _ in changes] == ["tenant.token_created", "tenant.token_revoked"]
    assert all(b["by_token"] == "test admin" and made["token"] not in str(b) for _, b in changes)

    async def broken(_tenant: str, _type: str, _body: Mapping[str, Any]) -> None:
        raise OSError("the ledger is unreachable")

    server = serve_in_thread(settings, create_app(settings, seal=broken))
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            res = http.post("/v1/tokens", json={"role": "data", "name": "never made"},
                            headers=admin)
            assert res.status_code == 503
            names = [t["name"] for t in http.get("/v1/tokens", headers=admin).json()["tokens"]]
            assert "never made" not in names
    finally:
        server.should_exit = True
