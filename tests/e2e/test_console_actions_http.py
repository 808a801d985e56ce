"""The console's hold, evidence and privacy forms over plain HTTP: CSRF, missing fields, and
the API's refusals shown on the page (the API is the oracle: nothing was placed or exported)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.console_stack import CALLER_PHONE, World
from tests.e2e.console_tab import api_get, signed_in

pytestmark = pytest.mark.e2e
NO_SUCH = "00000000-0000-4000-8000-000000000000"


def _holds(world: World) -> list[dict[str, Any]]:
    return list(api_get(world, "auditor", "/v1/holds")["holds"])


def _exports(world: World) -> int:
    events = api_get(world, "auditor", "/v1/access-log", limit=500)["events"]
    return len([e for e in events if e["type"] == "access.evidence"])


def test_hold_forms_need_csrf_fields_and_the_role(world: World) -> None:
    sid = world.call.session_id
    path = f"/console/sessions/{sid}/holds"
    good = {"matter": "Doe v. Acme 7", "reason": "preservation letter"}
    before = _holds(world)
    with signed_in(world, "reviewer") as (c, csrf):
        assert c.post(path, data=good).status_code == 403  # no CSRF value
        cross = c.post(path, data={**good, "csrf": csrf},
                       headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        bare = c.post(path, data={"matter": "", "reason": "x", "csrf": csrf})
        assert bare.status_code == 422 and "needs a matter and a reason" in bare.text
        bad = c.post(path, data={"matter": "<script>", "reason": "r", "csrf": csrf})
        assert bad.status_code == 422 and 'id="hold-error"' in bad.text
        assert "<script>" not in bad.text  # escaped, never markup
        nobody = c.post("/console/sessions/no-such-call/holds", data={**good, "csrf": csrf})
        assert nobody.status_code == 404
        unreleased = c.post(f"/console/holds/{NO_SUCH}/release",
                            data={"reason": "", "csrf": csrf})
        assert unreleased.status_code == 422 and "needs a reason" in unreleased.text
        unknown = c.post(f"/console/holds/{NO_SUCH}/release",
                         data={"reason": "closing", "csrf": csrf})
        assert unknown.status_code == 404 and 'id="holds-error"' in unknown.text
    with signed_in(world, "auditor") as (a, a_csrf):
        page = a.get(f"/console/sessions/{sid}")
        assert page.status_code == 200 and 'id="hold-form"' not in page.text
        forced = a.post(path, data={**good, "csrf": a_csrf})  # the form is not offered: forged
        assert forced.status_code == 403 and 'id="hold-error"' in forced.text
        listed = a.get("/console/holds", params={"state": "all"})
        assert listed.status_code == 200 and 'class="release-form"' not in listed.text
    assert _holds(world) == before  # nothing was placed or released


def test_evidence_export_needs_a_reason_and_the_role(world: World) -> None:
    sid = world.call.session_id
    path = f"/console/sessions/{sid}/evidence"
    before = _exports(world)
    with signed_in(world, "reviewer") as (c, csrf):
        assert c.post(path, data={"reason": "no csrf"}).status_code == 403
        bare = c.post(path, data={"reason": " ", "csrf": csrf})
        assert bare.status_code == 422 and "needs a reason" in bare.text
        assert bare.headers["content-type"].startswith("text/html")
    with signed_in(world, "data") as (d, d_csrf):
        page = d.get(f"/console/sessions/{sid}")
        assert 'id="evidence-form"' not in page.text
        forced = d.post(path, data={"reason": "curiosity", "csrf": d_csrf})
        assert forced.status_code == 403 and 'id="evidence-error"' in forced.text
        assert forced.headers["content-type"].startswith("text/html")
    assert _exports(world) == before


def test_privacy_forms_keep_identifiers_out_of_answers(world: World) -> None:
    email = "jane.doe.example.com"  # not an email address: the API refuses it, not repeating it
    before = api_get(world, "privacy", "/v1/erasure-requests")["requests"]
    with signed_in(world, "privacy") as (p, csrf):
        assert p.post("/console/privacy/requests",
                      data={"kind": "email", "value": email}).status_code == 403
        empty = p.post("/console/privacy/requests",
                       data={"kind": "phone_e164", "value": " ", "csrf": csrf})
        assert empty.status_code == 422 and 'id="privacy-error"' in empty.text
        odd = p.post("/console/privacy/requests", data={"kind": "ssn", "value": "123",
                                                        "csrf": csrf})
        assert odd.status_code == 422
        bad = p.post("/console/privacy/requests",
                     data={"kind": "email", "value": email, "csrf": csrf})
        assert bad.status_code == 422 and "not an email address" in bad.text
        assert email not in bad.text and "jane" not in bad.text
        missing = p.get(f"/console/privacy/requests/{NO_SUCH}")
        assert missing.status_code == 404
        assert p.get(f"/console/privacy/requests/{NO_SUCH}/certificate").status_code == 404
    with signed_in(world, "reviewer") as (r, r_csrf):
        refused = r.post("/console/privacy/requests",
                         data={"kind": "session_id", "value": world.call.session_id,
                               "csrf": r_csrf})
        assert refused.status_code == 403
    assert api_get(world, "privacy", "/v1/erasure-requests")["requests"] == before


def test_a_caller_hold_from_the_hold_list_covers_the_callers_call(world: World) -> None:
    sid, matter = world.call.session_id, "Caller hold 2026-77"
    with signed_in(world, "reviewer") as (c, csrf):
        form = {"covers": "phone_e164", "matter": matter, "reason": "regulator's request",
                "csrf": csrf}
        incomplete = c.post("/console/holds", data={**form, "value": " "})
        assert incomplete.status_code == 422 and 'id="holds-error"' in incomplete.text
        placed = c.post("/console/holds", data={**form, "value": CALLER_PHONE})
        assert placed.status_code == 303 and placed.headers["location"] == "/console/holds"
        try:
            [held] = [h for h in api_get(world, "auditor", "/v1/holds", active="true",
                                         session_id=sid)["holds"] if h["matter"] == matter]
            assert held["scope"] == "subject" and held["subject_kind"] == "phone_e164"
            page = c.get(f"/console/sessions/{sid}")
            assert matter in page.text
            assert "every call of one caller (by phone number)" in page.text
            listed = c.get("/console/holds")
            assert matter in listed.text
            for text in (page.text, listed.text):  # the identifier is never shown again
                assert CALLER_PHONE not in text and CALLER_PHONE[2:] not in text
            done = c.post(f"/console/holds/{held['hold_id']}/release",
                          data={"reason": "regulator closed it", "csrf": csrf})
            assert done.status_code == 303
            assert done.headers["location"] == "/console/holds?state=all"
        finally:  # never leave the world's call held for the other tests
            for h in api_get(world, "auditor", "/v1/holds", active="true")["holds"]:
                if h["matter"] == matter:
                    httpx.post(f"{world.url}/v1/holds/{h['hold_id']}/release", timeout=60,
                               json={"reason": "test cleanup"},
                               headers={"Authorization": f"Bearer {world.tokens['reviewer']}"})
    assert not [h for h in api_get(world, "auditor", "/v1/holds", active="true")["holds"]
                if h["matter"] == matter]
