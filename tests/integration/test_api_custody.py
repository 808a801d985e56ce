"""Holds, erasure requests, evidence bundles and the retention report over HTTP (issue 17),
against the real stack: a tenant of its own with sealed sessions, its tokens, the API served on
a loopback port.

- place a hold on a session -> the list shows it (also filtered by session) -> an erasure
  request for that session is refused naming the matter -> release -> a request proceeds, is
  carried out (as the worker of `voxledger run` does) and its certificate verifies;
- a bundle download verifies (`voxledger evidence verify` exit 0) and its `access.evidence`
  event, with the reason, is in /v1/access-log; without a reason it is 422;
- no response carries the subject's identifier.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.api.tokens import Role
from services.erasure.certificate import verify_certificate
from services.erasure.context import forget_context
from services.erasure.service import run_request
from services.platform.settings import Settings
from tests.integration.api_world import make_tokens, serve_in_thread
from tests.integration.ledger_helpers import PHONE, TenantSealer, publish_small_session

pytestmark = pytest.mark.integration
A, R, U, D, P = Role.ADMIN, Role.REVIEWER, Role.AUDITOR, Role.DATA, Role.PRIVACY
MATTER = "Doe v. Acme 2026/114"
DIGITS = PHONE.lstrip("+")


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    srv = serve_in_thread(settings)
    yield srv.url
    srv.should_exit = True


class Tenant:
    def __init__(self, http: httpx.AsyncClient, tokens: dict[tuple[str, Role], str],
                 tenant: str) -> None:
        self.http, self.tokens, self.tenant = http, tokens, tenant

    async def call(self, role: Role, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[(self.tenant, role)]}"}
        res = await self.http.request(method, path, headers=headers, **kw)
        assert DIGITS not in res.text  # the subject's phone number is never in any answer
        return res


@pytest.fixture
async def sealed(settings: Settings, server: str, tenant: str,
                 session_id: str) -> AsyncIterator[tuple[Tenant, list[str], TenantSealer]]:
    """Two sealed sessions of the caller +14155550123 in a fresh tenant; the sealer keeps
    running (certificates wait for its checkpoints)."""
    sessions = [session_id, session_id + "-b"]
    total = 0
    for s in sessions:
        total += await publish_small_session(settings, tenant, s, frames=2)
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(total)
        tokens = await make_tokens(settings, (tenant,))
        async with httpx.AsyncClient(base_url=server, timeout=120) as http:
            yield Tenant(http, tokens, tenant), sessions, sealer
    finally:
        await sealer.stop()
        await sealer.close()


async def test_a_hold_refuses_erasure_until_released(
        settings: Settings, sealed: tuple[Tenant, list[str], TenantSealer]) -> None:
    t, (held, other), _ = sealed
    placed = await t.call(R, "POST", "/v1/holds", json={
        "session_id": held, "matter": MATTER, "reason": "litigation notice of 2026-11-02"})
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert hold["scope"] == "session" and hold["session_id"] == held and hold["active"]
    assert hold["placed_by"] == "token:test reviewer" and hold["matter"] == MATTER

    by_subject = await t.call(A, "POST", "/v1/holds", json={
        "subject": {"kind": "phone_e164", "value": PHONE}, "matter": "M-2", "reason": "audit"})
    assert by_subject.status_code == 201, by_subject.text
    assert by_subject.json()["subject_kind"] == "phone_e164"
    assert "subject_index" not in by_subject.json()
    covering = await t.call(U, "GET", "/v1/holds", params={"session_id": other})
    assert [h["hold_id"] for h in covering.json()["holds"]] == [by_subject.json()["hold_id"]]
    gone = await t.call(A, "POST", f"/v1/holds/{by_subject.json()['hold_id']}/release",
                        json={"reason": "matter closed"})
    assert gone.status_code == 200 and gone.json()["active"] is False, gone.text
    again = await t.call(A, "POST", f"/v1/holds/{by_subject.json()['hold_id']}/release",
                         json={"reason": "matter closed"})
    assert again.status_code == 409, again.text

    listed = (await t.call(U, "GET", "/v1/holds", params={"active": "true"})).json()["holds"]
    assert [h["hold_id"] for h in listed] == [hold["hold_id"]]
    released = (await t.call(U, "GET", "/v1/holds", params={"active": "false"})).json()["holds"]
    assert [h["hold_id"] for h in released] == [by_subject.json()["hold_id"]]
    on_held = (await t.call(R, "GET", "/v1/holds", params={"session_id": held})).json()["holds"]
    assert [h["hold_id"] for h in on_held] == [hold["hold_id"]]
    assert (await t.call(R, "GET", "/v1/holds", params={"session_id": "nobody"})
            ).status_code == 404

    refused = await t.call(P, "POST", "/v1/erasure-requests",
                           json={"session_id": held, "reference": "DSR-1"})
    assert refused.status_code == 202, refused.text
    assert refused.json()["status"] == "refused" and "sessions" not in refused.json()
    status = (await t.call(P, "GET", f"/v1/erasure-requests/{refused.json()['request_id']}"))
    assert status.status_code == 200 and MATTER in status.json()["refused"], status.text

    done = await t.call(R, "POST", f"/v1/holds/{hold['hold_id']}/release",
                        json={"reason": "settled"})
    assert done.status_code == 200 and done.json()["released_by"] == "token:test reviewer"
    assert (await t.call(R, "GET", "/v1/holds", params={"session_id": held})
            ).json()["holds"] == []

    made = await t.call(P, "POST", "/v1/erasure-requests",
                        json={"phone_e164": "+1 (415) 555-0123", "reference": "DSR-2"})
    nobody = await t.call(P, "POST", "/v1/erasure-requests",
                          json={"email": "nobody@example.invalid"})
    assert made.status_code == nobody.status_code == 202, (made.text, nobody.text)
    # The same answer whether sessions matched (two did) or none did.
    assert set(made.json()) == set(nobody.json())
    assert made.json()["status"] == nobody.json()["status"] == "received"
    rid = made.json()["request_id"]
    async with forget_context(settings) as ctx:  # what the erasure worker does
        assert await run_request(ctx, rid) == rid
    status = await t.call(P, "GET", f"/v1/erasure-requests/{rid}")
    assert status.json()["status"] == "completed", status.text
    assert sorted(status.json()["sessions"]) == sorted([held, other])
    listing = (await t.call(A, "GET", "/v1/erasure-requests")).json()["requests"]
    assert {r["request_id"] for r in listing} == {rid, refused.json()["request_id"],
                                                  nobody.json()["request_id"]}

    pending = await t.call(P, "GET", f"/v1/erasure-requests/{nobody.json()['request_id']}"
                           "/certificate")
    assert pending.status_code == 409, pending.text
    cert = await _certificate(t, rid)
    statement = verify_certificate(cert)
    assert statement["request_id"] == rid and sorted(statement["sessions"]) == [held, other]
    log = (await t.call(U, "GET", "/v1/access-log")).json()["events"]
    assert [e["body"]["request_id"] for e in log if e["type"] == "access.certificate"] == [rid]
    assert (await t.call(R, "GET", f"/v1/erasure-requests/{rid}/certificate")).status_code == 403


async def _certificate(t: Tenant, rid: str) -> dict[str, Any]:
    for _ in range(30):  # 409 until the sealer signs a checkpoint covering the completion
        res = await t.call(P, "GET", f"/v1/erasure-requests/{rid}/certificate")
        if res.status_code == 200:
            body: dict[str, Any] = res.json()
            return body
        assert res.status_code == 409, res.text
        await asyncio.sleep(1)
    raise AssertionError("no certificate after 30 tries")


async def test_bundle_download_verifies_and_is_logged(
        sealed: tuple[Tenant, list[str], TenantSealer], tmp_path: Path) -> None:
    t, (sid, _), _ = sealed
    path = f"/v1/sessions/{sid}/evidence"
    assert (await t.call(R, "GET", path)).status_code == 422
    for role in (A, U, D, P):
        assert (await t.call(role, "GET", path, params={"reason": "court order 12"})
                ).status_code == 403
    why = "subpoena 2026-77, exhibit B"
    res = await t.call(R, "GET", path, params={"reason": why})
    for _ in range(30):  # 409 until a WORM checkpoint covers the session
        if res.status_code != 409:
            break
        await asyncio.sleep(1)
        res = await t.call(R, "GET", path, params={"reason": why})
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/zip"
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(res.content)
    checked = subprocess.run([sys.executable, "-m", "services.cli", "evidence", "verify",
                              str(bundle)], capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = (await t.call(U, "GET", "/v1/access-log")).json()["events"]
    mine = [e["body"] for e in log if e["type"] == "access.evidence"]
    assert len(mine) == 1 and mine[0]["reason"] == why and mine[0]["sessions"] == [sid]
    assert mine[0]["token"] == "test reviewer"
    custody = json.loads(_member(bundle, "custody.json"))
    assert custody["actor"] == "token:test reviewer"
    assert (await t.call(R, "GET", "/v1/sessions/nobody/evidence", params={"reason": why})
            ).status_code == 404


def _member(bundle: Path, name: str) -> bytes:
    import zipfile

    with zipfile.ZipFile(bundle) as z:
        return z.read(name)


async def test_retention_report(sealed: tuple[Tenant, list[str], TenantSealer]) -> None:
    t, sessions, _ = sealed
    hold = await t.call(A, "POST", "/v1/holds", json={"all": True, "matter": "M-3",
                                                      "reason": "regulator inquiry"})
    assert hold.status_code == 201, hold.text
    for role in (A, U):
        res = await t.call(role, "GET", "/v1/retention")
        assert res.status_code == 200, res.text
        report = res.json()
        assert report["policies"]["tenant"] == t.tenant
        assert "recordings" in report["policies"]["classes"]
        assert report["plan"]["tenant"] == t.tenant and report["plan"]["dry_run"] is True
        assert {s["session_id"] for s in report["plan"]["sessions"]} <= set(sessions)
    for role in (R, D, P):
        assert (await t.call(role, "GET", "/v1/retention")).status_code == 403
