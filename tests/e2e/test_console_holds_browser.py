"""Holds, evidence and the privacy queue in the console (Debian's chromium, the real stack).

Issue 18's acceptance: a hold placed from the session page is on the hold list, and an erasure
request for that caller is refused in the privacy queue with the matter named. The API is the
oracle (``/v1/holds``, ``/v1/erasure-requests``, ``/v1/access-log``); the hold is released at
the end, through the page, so the world's call is as the other tests expect it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zipfile
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from services.platform.settings import Settings
from tests.e2e.console_stack import CALLER_PHONE, World, make_tokens
from tests.e2e.console_tab import Tab, api_get, shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
MATTER = "Smith v. Acme 2026-041"
HOLD_REASON = "Counsel's preservation letter of 30 Nov"
EXPORT_REASON = "Subpoena 2026-041: produce the call"
RELEASE_REASON = "Matter 2026-041 settled"


def _bodies(tab: Tab) -> list[str]:
    found = []
    for r in tab.responses:
        try:
            found.append(r.body().decode("utf-8", "replace"))
        except Exception:  # redirects and downloads have no body to read here
            continue
    return found


def test_a_hold_placed_on_the_session_page_refuses_the_callers_erasure(
        world: World, browser: Any) -> None:
    sid = world.call.session_id
    tab = Tab(browser)
    page = tab.page
    tab.sign_in(world.url, world.tokens["reviewer"])
    page.goto(f"{world.url}/console/sessions/{sid}")
    assert page.locator("#no-holds").count() == 1
    # No matter, no hold: the browser will not send the form.
    page.get_by_role("button", name="Place hold").click()
    assert tab.js("document.getElementById('hold-matter').validity.valueMissing")
    page.get_by_label("Matter").fill(MATTER)
    page.get_by_label("Reason for the hold").fill(HOLD_REASON)
    page.get_by_role("button", name="Place hold").click()
    page.wait_for_selector("#holds .hold-row")
    assert page.locator("#holds .hold-row").count() == 1
    assert MATTER in page.locator("#holds .hold-row .matter").inner_text()
    assert page.locator("#held-note").count() == 1
    assert not tab.unlabelled()
    [held] = api_get(world, "auditor", "/v1/holds", active="true", session_id=sid)["holds"]
    assert (held["matter"], held["reason"], held["scope"], held["session_id"]) == (
        MATTER, HOLD_REASON, "session", sid)

    page.get_by_role("link", name="Holds").click()
    page.wait_for_url("**/console/holds")
    row = page.locator(f'.hold-row[data-hold="{held["hold_id"]}"]')
    assert row.count() == 1 and MATTER in row.inner_text() and sid in row.inner_text()
    assert not tab.unlabelled()
    shot(tab, "holds-desktop.png")

    privacy = Tab(browser)
    privacy.sign_in(world.url, world.tokens["privacy"], landing="privacy")
    p = privacy.page
    p.get_by_label("Identified by").select_option("phone_e164")
    p.get_by_label("Identifier").fill(CALLER_PHONE)
    p.get_by_role("button", name="Request erasure").click()
    p.wait_for_url("**/console/privacy/requests/*")
    rid = p.url.rsplit("/", 1)[1]
    assert p.locator("#erasure-status").inner_text() == "refused"
    assert MATTER in p.locator("#erasure-refusal").inner_text()
    status = api_get(world, "privacy", f"/v1/erasure-requests/{rid}")
    assert status["status"] == "refused" and MATTER in status["refused"]
    assert status["sessions"] == []  # nothing left to erase: the caller's one call is held
    p.get_by_role("link", name="Back to the privacy queue").click()
    p.wait_for_url("**/console/privacy")
    queued = p.locator(f'.request-row[data-request="{rid}"]')
    assert queued.locator(".state").inner_text() == "refused"
    assert MATTER in queued.locator(".refusal").inner_text()
    assert not privacy.unlabelled()
    shot(privacy, "privacy-desktop.png")
    # The identifier went up in a form; no page or answer ever sends it back.
    bodies = _bodies(privacy)
    assert len(bodies) >= 3
    assert not any(CALLER_PHONE in b for b in bodies)
    assert privacy.errors == []
    privacy.close()

    # The call is still whole, and its evidence can be exported (with a reason).
    page.goto(f"{world.url}/console/sessions/{sid}")
    assert page.locator("#transcript .turn").count() > 3
    page.get_by_role("button", name="Export evidence bundle").click()
    assert tab.js("document.getElementById('evidence-reason').validity.valueMissing")
    page.get_by_label("Reason for exporting").fill(EXPORT_REASON)
    with page.expect_download() as got:
        page.get_by_role("button", name="Export evidence bundle").click()
    download = got.value
    assert download.suggested_filename == f"evidence-{sid}.zip"
    with zipfile.ZipFile(download.path()) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        assert "verify_bundle.py" in bundle.namelist()
    assert manifest["reason"] == EXPORT_REASON
    log = api_get(world, "auditor", "/v1/access-log", limit=500)["events"]
    assert EXPORT_REASON in [e["body"].get("reason") for e in log
                             if e["type"] == "access.evidence" and sid in e["body"]["sessions"]]

    page.get_by_label(f"Reason for releasing the hold of matter {MATTER}").fill(RELEASE_REASON)
    page.get_by_role("button", name="Release").click()
    page.wait_for_selector("#no-holds")
    released = [h for h in api_get(world, "auditor", "/v1/holds", active="false")["holds"]
                if h["hold_id"] == held["hold_id"]]
    assert len(released) == 1 and not released[0]["active"]
    assert tab.errors == []
    tab.close()


def test_roles_see_only_the_actions_the_api_grants(world: World, browser: Any) -> None:
    """An auditor reads holds but cannot place one nor export; a privacy token's console has no
    hold list (the API says why); a reviewer's has no privacy queue."""
    sid = world.call.session_id
    auditor = Tab(browser)
    auditor.sign_in(world.url, world.tokens["auditor"])
    auditor.page.goto(f"{world.url}/console/sessions/{sid}")
    assert auditor.page.locator("#holds-h").count() == 1
    assert auditor.page.locator("#hold-form").count() == 0
    assert auditor.page.locator("#evidence-form").count() == 0
    assert auditor.errors == []
    auditor.close()

    privacy = Tab(browser)
    privacy.sign_in(world.url, world.tokens["privacy"], landing="privacy")
    refused = privacy.page.goto(f"{world.url}/console/holds")
    assert refused is not None and refused.status == 403
    assert privacy.page.locator("h1").inner_text() == "Not permitted"
    privacy.close()

    reviewer = Tab(browser)
    reviewer.sign_in(world.url, world.tokens["reviewer"])
    assert reviewer.page.get_by_role("link", name="Privacy queue").count() == 0
    queue = reviewer.page.goto(f"{world.url}/console/privacy")
    assert queue is not None and queue.status == 403
    reviewer.close()


T = TypeVar("T")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` on a loop of its own (Playwright's sync API holds this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _sealed_session(settings: Settings, tenant: str, sid: str) -> dict[str, str]:
    from tests.integration.ledger_helpers import TenantSealer, publish_small_session

    events = await publish_small_session(settings, tenant, sid, frames=2)
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(events)
    finally:
        await sealer.stop()
        await sealer.close()
    return await make_tokens(settings, tenant, "privacy")


async def _carry_out(settings: Settings, tenant: str, rid: str) -> None:
    """What the erasure worker of `voxledger run` does, with the tenant's sealer running until
    a signed checkpoint covers the completion (the certificate's inclusion proof needs it)."""
    from services.erasure.context import forget_context
    from services.erasure.issue import issue_certificate
    from services.erasure.service import run_request
    from tests.integration.ledger_helpers import TenantSealer

    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        async with forget_context(settings) as ctx:
            assert await run_request(ctx, rid) == rid
            await issue_certificate(ctx, rid, timeout_s=120)
    finally:
        await sealer.stop()
        await sealer.close()


def test_privacy_queue_downloads_the_certificate_of_a_completed_erasure(
        world: World, browser: Any, settings: Settings) -> None:
    """A tenant of its own (its session is erased): a request made in the queue, carried out by
    the worker, then its signed certificate downloaded from the console verifies offline."""
    from services.erasure.certificate import verify_certificate

    tenant, sid = "t-" + secrets.token_hex(5), "call-" + secrets.token_hex(4)
    tokens = _run(_sealed_session(settings, tenant, sid))
    tab = Tab(browser)
    page = tab.page
    tab.sign_in(world.url, tokens["privacy"], landing="privacy")
    assert page.locator("#no-requests").count() == 1
    page.get_by_label("Identified by").select_option("session_id")
    page.get_by_label("Identifier").fill(sid)
    page.get_by_role("button", name="Request erasure").click()
    page.wait_for_url("**/console/privacy/requests/*")
    rid = page.url.rsplit("/", 1)[1]
    assert page.locator("#erasure-status").inner_text() == "received"
    assert page.locator("#certificate-link").count() == 0

    _run(_carry_out(settings, tenant, rid))
    page.reload()
    assert page.locator("#erasure-status").inner_text() == "completed"
    with page.expect_download() as got:
        page.get_by_role("link", name="Download the signed erasure certificate").click()
    download = got.value
    assert download.suggested_filename == f"erasure-certificate-{rid}.json"
    with open(download.path(), encoding="utf-8") as f:
        statement = verify_certificate(json.load(f))
    assert statement["request_id"] == rid and statement["sessions"] == [sid]
    page.goto(f"{world.url}/console/privacy")
    row = page.locator(f'.request-row[data-request="{rid}"]')
    assert row.locator(".state").inner_text() == "completed"
    assert tab.errors == []
    tab.close()
