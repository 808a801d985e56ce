"""The console's holds and privacy views: API JSON in, what the pages print out."""

from __future__ import annotations

from typing import Any

import pytest

from services.api.console.legal import (
    ERASURE_KINDS,
    erasure_body,
    erasure_row,
    hold_row,
    hold_target,
)
from services.api.console.pages import templates


def _hold(**kw: Any) -> dict[str, Any]:
    base = {"hold_id": "6f1c0d0e-1b5e-4a53-9c1e-2f6f4c1a9b10", "scope": "session",
            "session_id": "call-1", "matter": "Smith v. Acme", "reason": "litigation",
            "placed_by": "token:abc", "placed_at": "2026-11-30T22:10:05.123+00:00",
            "active": True}
    return {**base, **kw}


def test_hold_rows_say_what_they_cover_without_identifiers() -> None:
    s = hold_row(_hold())
    assert (s.covers, s.session_id, s.placed_at, s.released) == (
        "session call-1", "call-1", "2026-11-30 22:10:05", None)
    subject = hold_row(_hold(scope="subject", session_id=None, subject_kind="phone_e164",
                             subject_index="ab" * 32))
    assert subject.covers == "every call of one caller (by phone number)"
    assert subject.session_id is None and "ab" * 32 not in repr(subject)
    tenant = hold_row(_hold(scope="tenant", session_id=None))
    assert tenant.covers == "every call of the tenant"
    gone = hold_row(_hold(active=False, released_at="2026-12-01T08:00:00+00:00",
                          released_by="token:def", release_reason="case settled"))
    assert not gone.active
    assert gone.released == "2026-12-01 08:00:00 by token:def: case settled"


def test_erasure_rows_carry_the_refusal_and_its_matters() -> None:
    refusal = ("legal hold (Smith v. Acme) on 1 session(s): erasure refused under GDPR "
               "Art. 17(3)(e).")
    r = erasure_row({"request_id": "r1", "status": "refused", "sessions": [],
                     "received_at": "2026-11-30T22:11:00+00:00",
                     "due_at": "2026-12-30T22:11:00+00:00", "overdue": False,
                     "refused": refusal})
    assert (r.status, r.refusal, r.closed, r.sessions, r.due_at) == (
        "refused", refusal, True, 0, "2026-12-30")
    listed = erasure_row({"request_id": "r2", "status": "received", "sessions": 3,
                          "received_at": "2026-11-30T22:11:00+00:00",
                          "due_at": "2026-12-30T22:11:00+00:00", "overdue": True})
    assert (listed.sessions, listed.refusal, listed.closed, listed.overdue) == (
        3, None, False, True)


def test_erasure_body_takes_one_known_identifier() -> None:
    assert erasure_body("phone_e164", " +14155550100 ") == {"phone_e164": "+14155550100"}
    assert erasure_body("session_id", "call-1") == {"session_id": "call-1"}
    assert erasure_body("phone_e164", "  ") is None
    assert erasure_body("ssn", "123") is None  # only the API's identifier kinds
    assert [k for k, _ in ERASURE_KINDS] == ["phone_e164", "email", "customer_id",
                                             "session_id"]


@pytest.mark.parametrize("can_hold", [True, False])
def test_holds_table_offers_release_only_when_the_api_would_take_it(can_hold: bool) -> None:
    rows = [hold_row(_hold()), hold_row(_hold(hold_id="h2", matter="<b>M&A</b>", active=False,
                                              released_at="2026-12-01T08:00:00+00:00"))]
    html = str(templates.env.get_template("_holds.html").module.holds_table(  # type: ignore[attr-defined]
        rows, can_hold, "call-1", True, "c5rf"))
    assert html.count('class="release-form"') == (1 if can_hold else 0)  # active holds only
    assert "&lt;b&gt;M&amp;A&lt;/b&gt;" in html and "<b>M&A</b>" not in html  # escaped
    if can_hold:
        assert 'action="/console/holds/6f1c0d0e-1b5e-4a53-9c1e-2f6f4c1a9b10/release"' in html
        assert 'name="back" value="call-1"' in html and 'value="c5rf"' in html
        assert "Reason for releasing the hold of matter Smith v. Acme" in html


class _Who:
    csrf, role, name, tenant_id = "c5rf", "privacy", "privacy desk", "acme"


def _request(status: str, **kw: Any) -> dict[str, Any]:
    return {"request_id": "01a2-r", "status": status, "sessions": [],
            "received_at": "2026-11-30T22:11:00+00:00", "due_at": "2026-12-30T22:11:00+00:00",
            "overdue": False, **kw}


def test_privacy_pages_name_the_refusal_and_offer_certificates_of_completed_requests() -> None:
    refused = erasure_row(_request("refused", refused="legal hold (<M&A>) on 1 session(s)"))
    queue = templates.env.get_template("privacy.html").render(
        who=_Who(), rows=[refused, erasure_row(_request("received"))], kinds=ERASURE_KINDS,
        kind="email", error=None)
    assert queue.count('class="request-row') == 2
    assert "legal hold (&lt;M&amp;A&gt;) on 1 session(s)" in queue
    assert '<option value="email" selected>' in queue and 'value="c5rf"' in queue
    assert 'href="/console/privacy"' in queue and 'href="/console/holds"' not in queue
    page = templates.env.get_template("erasure.html")
    done = page.render(who=_Who(), r=erasure_row(_request("completed")), stores=[])
    assert 'id="certificate-link"' in done and "Not finished yet" not in done
    for status in ("refused", "received", "running", "failed"):
        other = page.render(who=_Who(), r=erasure_row(_request(status)), stores=[])
        assert 'id="certificate-link"' not in other


def test_wider_holds_name_a_caller_by_an_identifier_or_the_whole_tenant() -> None:
    assert hold_target("all", "ignored") == {"all": True}
    assert hold_target("email", " jane@example.com ") == {
        "subject": {"kind": "email", "value": "jane@example.com"}}
    assert hold_target("phone_e164", "") is None
    assert hold_target("session_id", "call-1") is None  # one call: from its own page
