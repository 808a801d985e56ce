"""The reviewer console in Debian's chromium (Playwright), against the real stack: simulated
OpenAI calls recorded through the whole pipeline, the API with its console on a free port.

Waits poll the page (``until``) with generous bounds; nothing asserts on time taken.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.console_stack import World
from tests.e2e.console_tab import Tab, api_get, shot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHRASE = '"Acme Utilities"'
ORIGINAL_REASON = "Dispute 4711: caller says the bill is wrong"
LISTEN_REASON = "QA review of ticket 4711"


def _access_events(world: World, kind: str) -> list[dict[str, Any]]:
    events = api_get(world, "auditor", "/v1/access-log", limit=500)["events"]
    return [e for e in events if e["type"] == f"access.{kind}"
            and world.call.session_id in e["body"]["sessions"]]


def _player_ms(tab: Tab) -> float:
    return float(tab.js("document.getElementById('player').currentTime")) * 1000


def test_reviewer_finds_hears_and_reads_a_call(world: World, browser: Any) -> None:
    tab = Tab(browser)
    page = tab.page
    tab.sign_in(world.url, world.tokens["reviewer"])
    tab.search(PHRASE)
    hits = page.locator(".hit-row")
    assert hits.count() >= 1
    assert page.locator(".hit-row mark.hit").first.inner_text() == "Acme"
    assert not tab.unlabelled()
    shot(tab, "search-desktop.png")

    page.locator(".hit-link").first.click()
    page.wait_for_selector("#transcript .turn")
    assert world.call.session_id in page.locator("h1").inner_text()
    assert "inclusion verified for this session" in page.locator("#ledger-badge").inner_text()
    assert page.locator("#view-name").inner_text() == "redacted"
    assert page.locator("mark.pii").count() > 0  # PII shown by type in the redacted view
    assert not tab.unlabelled()

    page.get_by_label("Reason for listening").fill(LISTEN_REASON)
    page.get_by_role("button", name="Load recording").click()
    tab.until(lambda: tab.js("!document.getElementById('player').hidden && "
                             "document.getElementById('player').readyState >= 1"))
    assert tab.js("document.querySelector('.lane canvas').width") > 1

    turns = page.locator("#transcript .turn")
    third = turns.nth(2)
    third_start = int(third.get_attribute("data-start-ms") or -1)
    third.locator(".text").click()
    assert abs(_player_ms(tab) - third_start) <= 100
    assert third.get_attribute("aria-current") == "true"

    fourth_start = int(turns.nth(3).get_attribute("data-start-ms") or -1)
    page.locator("#player").focus()
    tab.js("document.getElementById('player').play()")
    tab.until(lambda: _player_ms(tab) > fourth_start + 300)
    tab.js("document.getElementById('player').pause()")
    now = _player_ms(tab)
    starts = [int(s) for s in turns.evaluate_all("els => els.map(e => e.dataset.startMs)")]
    expect = max(i for i, s in enumerate(starts) if s <= now)
    current = page.locator("#transcript .turn.current")
    assert current.count() == 1
    assert int(current.get_attribute("data-turn") or -1) == expect
    assert expect >= 3  # it moved on from the turn that was clicked
    shot(tab, "session-desktop.png", full=True)

    cut = page.locator("#transcript .turn.status-truncated").first
    assert cut.locator("del.unheard").count() == 1  # the unheard remainder, struck through
    assert page.locator(".lane[data-lane=agent] .mark.cut").count() >= 1

    # "Show original" without a reason: the browser will not send the form ...
    page.get_by_role("button", name="Show original").click()
    assert tab.js("document.getElementById('original-reason').validity.valueMissing")
    assert page.locator("#view-name").inner_text() == "redacted"
    # ... and a hand-made request without one is refused by the console and the API alike.
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    forced = page.request.post(f"{world.url}/console/sessions/{world.call.session_id}/original",
                               form={"csrf": csrf or "", "reason": ""},
                               headers={"Origin": world.url})
    assert forced.status == 422 and "needs a reason" in forced.text()
    assert 'id="original-banner"' not in forced.text()
    assert _access_events(world, "original") == []

    page.get_by_label("Reason for showing the original").fill(ORIGINAL_REASON)
    page.get_by_role("button", name="Show original").click()
    page.wait_for_selector("#original-banner")
    assert page.locator("#view-name").inner_text() == "original"
    original = api_get(world, "reviewer", f"/v1/sessions/{world.call.session_id}",
                    view="original", reason="test oracle: what the page must show")["original"]
    truncated = next(t for t in original["turns"] if t["status"] == "truncated")
    remainder = truncated["text"][len(truncated["heard_text"]):].strip()
    shown = page.locator("#transcript .turn.status-truncated del.unheard").first.inner_text()
    assert remainder and remainder in shown
    assert page.locator(".tool-io").count() >= 1

    reasons = [e["body"]["reason"] for e in _access_events(world, "original")]
    assert ORIGINAL_REASON in reasons
    assert LISTEN_REASON in [e["body"]["reason"] for e in _access_events(world, "audio")]
    assert tab.errors == []
    tab.close()


def test_data_token_never_receives_an_original(world: World, browser: Any) -> None:
    sid = world.call.session_id
    original = api_get(world, "reviewer", f"/v1/sessions/{sid}", view="original",
                    reason="test oracle: originals the data role must never receive")["original"]
    redacted = api_get(world, "data", f"/v1/sessions/{sid}")["redacted"]
    masked = {t["turn_id"] for t in redacted["turns"] if t["text"] and "<" in t["text"]}
    secrets_ = [t["heard_text"] for t in original["turns"]
                if t["turn_id"] in masked and t["heard_text"]]
    secrets_ += [t["text"][len(t["heard_text"] or ""):].strip() for t in original["turns"]
                 if t["status"] in ("truncated", "interrupted") and t["text"]]
    secrets_ += [c["arguments"] for c in original["tool_calls"] if c["arguments"]]
    secrets_ = [s for s in secrets_ if len(s) >= 8]
    assert len(secrets_) >= 3

    tab = Tab(browser)
    page = tab.page
    tab.sign_in(world.url, world.tokens["data"])
    tab.search(PHRASE)
    page.locator(".hit-link").first.click()
    page.wait_for_selector("#transcript .turn")
    assert page.locator("#original-form").count() == 0
    assert page.locator("#listen-form").count() == 0
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    # The data token tries anyway, from its own page: the API refuses (403), nothing is sent.
    statuses = tab.js(f"""(async () => {{
        const form = new URLSearchParams({{csrf: "{csrf}", reason: "curiosity"}});
        const a = await fetch("/console/sessions/{sid}/original", {{method: "POST", body: form}});
        const b = await fetch("/console/sessions/{sid}/listen", {{method: "POST",
            headers: {{"Content-Type": "application/json", "X-CSRF-Token": "{csrf}"}},
            body: JSON.stringify({{reason: "curiosity"}})}});
        await a.text(); await b.text();
        return [a.status, b.status];
    }})()""")
    assert statuses == [403, 403]
    bodies = []
    for r in tab.responses:
        try:
            bodies.append(r.body().decode("utf-8", "replace"))
        except Exception:  # redirects have no body
            continue
    assert len(bodies) >= 6
    leaked = [i for i, s in enumerate(secrets_) if any(s in b for b in bodies)]
    assert leaked == [], f"originals {leaked} reached the data token's browser"
    assert tab.errors == [e for e in tab.errors if "403" in e]  # the two refused fetches only
    tab.close()


def test_another_tenants_session_is_not_found(world: World, browser: Any) -> None:
    tab = Tab(browser)
    tab.sign_in(world.url, world.tokens["reviewer"])
    theirs = tab.page.goto(f"{world.url}/console/sessions/{world.other_call.session_id}")
    assert theirs is not None and theirs.status == 404
    assert tab.page.locator("h1").inner_text() == "Not found"
    text = tab.page.locator("main").inner_text()
    nobody = tab.page.goto(f"{world.url}/console/sessions/no-such-session")
    assert nobody is not None and nobody.status == 404
    assert tab.page.locator("main").inner_text() == text  # the same answer: nothing revealed
    # Chromium logs a document's 404 status itself; nothing else may be logged.
    assert [e for e in tab.errors if "status of 404" not in e] == []
    tab.close()


def test_phone_screenshots_and_keyboard_only(world: World, browser: Any) -> None:
    tab = Tab(browser, width=390, height=844)
    page = tab.page
    page.goto(world.url + "/console/sign-in")
    # The token field takes the focus by itself (autofocus): no pointer needed to start.
    tab.until(lambda: tab.js("document.activeElement && document.activeElement.id === 'token'"))
    page.keyboard.type(world.tokens["reviewer"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/search")
    page.get_by_label("Words spoken in the call").focus()
    page.keyboard.type(PHRASE)
    page.keyboard.press("Enter")
    page.wait_for_selector("#results-h")
    shot(tab, "search-phone.png")
    page.locator(".hit-link").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#transcript .turn")
    # Enter before the page's script is attached would submit the form natively (seen on a
    # loaded CI machine): wait for the load event, as a person waits for the page to settle.
    tab.until(lambda: tab.js("document.readyState === 'complete'"))
    page.get_by_label("Reason for listening").focus()
    page.keyboard.type(LISTEN_REASON)
    page.keyboard.press("Enter")
    tab.until(lambda: tab.js("document.getElementById('player').readyState >= 1"))
    third = page.locator("#transcript .turn").nth(2)
    third.locator("button.seek").focus()
    page.keyboard.press("Enter")
    assert abs(_player_ms(tab) - int(third.get_attribute("data-start-ms") or -1)) <= 100
    lane = page.locator(".lane[data-lane=caller]")
    lane.focus()
    before = _player_ms(tab)
    page.keyboard.press("ArrowRight")
    assert _player_ms(tab) == pytest.approx(before + 5000, abs=100)
    page.evaluate("window.scrollTo(0, 0)")
    shot(tab, "session-phone.png")
    assert tab.errors == []
    tab.close()


def test_auditor_sees_the_access_history_but_no_content(world: World, browser: Any) -> None:
    """Runs after the reviewer's test (file order): the reads it made are listed with reasons."""
    tab = Tab(browser)
    page = tab.page
    tab.sign_in(world.url, world.tokens["auditor"])
    page.goto(f"{world.url}/console/sessions/{world.call.session_id}")
    assert page.locator("#view-name").inner_text() == "metadata"
    assert page.locator("#transcript .turn").count() == 0
    assert page.locator("#listen-form").count() == 0 and page.locator("#original-form").count() == 0
    history = page.locator("table.history").inner_text()
    assert ORIGINAL_REASON in history and LISTEN_REASON in history
    assert "access.original" in history and "access.audio" in history
    assert tab.errors == []
    tab.close()
