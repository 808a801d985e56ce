"""The reviewer console over plain HTTP (no browser): sign-in and CSRF, search filters and
pages, searching original words with a reason. The world: ``conftest.py``."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from tests.e2e.console_stack import World

pytestmark = pytest.mark.e2e
PHRASE = '"Acme Utilities"'


def _api(world: World, role: str, path: str, **params: Any) -> Any:
    res = httpx.get(world.url + path, params=params, timeout=60,
                    headers={"Authorization": f"Bearer {world.tokens[role]}"})
    assert res.status_code == 200, res.text
    return res.json()


def test_sign_in_refuses_bad_tokens_and_cross_site_posts(world: World) -> None:
    with httpx.Client(base_url=world.url, timeout=60) as c:
        form = c.get("/console/sign-in")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        cookie = form.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        bad = c.post("/console/sign-in", data={"token": "vxl_0000000000000000_" + "x" * 43,
                                               "csrf": csrf.group(1)})
        assert bad.status_code == 401 and "unknown, revoked or malformed" in bad.text
        wrong = c.post("/console/sign-in", data={"token": world.tokens["reviewer"],
                                                 "csrf": "forged"})
        assert wrong.status_code == 403 and "vxl_console=" not in wrong.headers.get("set-cookie", "")
        form = c.get("/console/sign-in")
        value = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert value is not None
        ok = c.post("/console/sign-in", data={"token": world.tokens["reviewer"],
                                              "csrf": value.group(1)})
        assert ok.status_code == 303
        assert "HttpOnly" in ok.headers["set-cookie"] and "SameSite=strict" in ok.headers["set-cookie"]
        # Signed in, a state-changing request from another origin or without CSRF is refused.
        path = f"/console/sessions/{world.call.session_id}/original"
        page = c.get(f"/console/sessions/{world.call.session_id}")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token is not None
        cross = c.post(path, data={"csrf": token.group(1), "reason": "x-site"},
                       headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        missing = c.post(path, data={"reason": "no csrf"})
        assert missing.status_code == 403
        assert 'id="original-banner"' not in cross.text + missing.text
        listen = c.post(f"/console/sessions/{world.call.session_id}/listen",
                        json={"reason": "no csrf"})
        assert listen.status_code == 403
    # Signed out, the script's endpoints answer 401 (the pages send you to the sign-in form).
    with httpx.Client(base_url=world.url, timeout=60) as anon:
        assert anon.post(f"/console/sessions/{world.call.session_id}/listen",
                         json={"reason": "anyone"}).status_code == 401
        assert anon.get("/console/play/anything").status_code == 401
        page = anon.get(f"/console/sessions/{world.call.session_id}")
        assert page.status_code == 303 and page.headers["location"] == "/console/sign-in"


def _signed_in(world: World, role: str) -> httpx.Client:
    """An opened client signed in to the console (close it: ``with``)."""
    c = httpx.Client(base_url=world.url, timeout=60)
    form = c.get("/console/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    assert c.post("/console/sign-in", data={"token": world.tokens[role],
                                            "csrf": csrf.group(1)}).status_code == 303
    return c


def test_search_filters_and_pages(world: World) -> None:
    """Every filter the form offers narrows what the API returns (this tenant has one 80 s
    OpenAI call with cut-off agent turns and a tool call, recorded today)."""
    def hits(**params: Any) -> int:
        page = c.get("/console/search", params={"q": PHRASE, **params})
        assert page.status_code == 200, page.text
        return page.text.count('class="hit-row"')

    today = time.strftime("%Y-%m-%d", time.gmtime())
    later = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 3 * 86400))
    earlier = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400))
    c = _signed_in(world, "reviewer")
    try:
        assert hits() == 1
        assert hits(provider="openai-realtime") == 1 and hits(provider="gemini-live") == 0
        assert hits(interrupted="yes") == 1 and hits(interrupted="no") == 0
        assert hits(tools="yes") == 1 and hits(tools="no") == 0
        assert hits(min_s=60, max_s=120) == 1 and hits(min_s=100) == 0 and hits(max_s=30) == 0
        assert hits(since=today, until=today) == 1
        assert hits(since=later) == 0 and hits(until=earlier) == 0
        # Pages: the hits of "thank" two at a time, each page different, the last without "next".
        seen: list[str] = []
        page_no = 1
        while True:
            page = c.get("/console/search", params={"q": "thank", "per": 2, "page": page_no})
            rows = re.findall(r'href="(/console/sessions/[^"]+)"', page.text)
            assert 1 <= len(rows) <= 2
            seen += rows
            if 'rel="next"' not in page.text:
                break
            page_no += 1
        assert page_no >= 2 and len(seen) == len(set(seen))
        listing = c.get("/console/search")
        assert world.call.session_id in listing.text
        assert world.other_call.session_id not in listing.text
    finally:
        c.close()


def test_searching_original_words_needs_a_reason(world: World) -> None:
    caller_text = " ".join(t.text for t in world.call.script.turns if t.speaker == "caller")
    found = re.search(r"It's (\w+) (\w+),", caller_text)
    assert found is not None
    surname = found.group(2)  # redacted everywhere but in the originals
    fields = {"q": surname, "since": "", "until": "", "provider": "", "interrupted": "",
              "tools": "", "min_s": "", "max_s": ""}
    reason = "Complaint C-19: find the caller's call"
    c = _signed_in(world, "reviewer")
    try:
        redacted = c.get("/console/search", params={"q": surname})
        assert redacted.text.count('class="hit-row"') == 0
        assert 'id="original-search-form"' in redacted.text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', redacted.text)
        assert csrf is not None
        bare = c.post("/console/search", data={**fields, "csrf": csrf.group(1), "reason": ""})
        assert bare.status_code == 422 and "needs words and a reason" in bare.text
        assert 'id="original-search-banner"' not in bare.text
        before = len([e for e in _api(world, "auditor", "/v1/access-log", limit=500)["events"]
                      if e["type"] == "access.search"])
        assert before == 0
        shown = c.post("/console/search", data={**fields, "csrf": csrf.group(1),
                                                "reason": reason})
        assert shown.status_code == 200 and 'id="original-search-banner"' in shown.text
        assert f'<mark class="hit">{surname}</mark>' in shown.text
        logged = [e for e in _api(world, "auditor", "/v1/access-log", limit=500)["events"]
                  if e["type"] == "access.search"]
        assert [e["body"]["reason"] for e in logged] == [reason]
        assert world.call.session_id in logged[0]["body"]["sessions"]
    finally:
        c.close()
    d = _signed_in(world, "data")
    try:
        page = d.get("/console/search", params={"q": surname})
        assert 'id="original-search-form"' not in page.text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert csrf is not None
        refused = d.post("/console/search", data={**fields, "csrf": csrf.group(1),
                                                  "reason": "curiosity"})
        assert refused.status_code == 403 and f">{surname}<" not in refused.text
    finally:
        d.close()


async def test_ledger_badge_checks_proofs_not_flags(world: World, settings: Any,
                                                    owner_settings: Any) -> None:
    """The badge recomputes inclusion against the signed checkpoint: one altered leaf of the
    session (in the other tenant, whom no other test reads) turns it to "not verified"."""
    from sqlalchemy import text

    from services.api.console.ledger_badge import badge
    from services.ledger.trust import Trust
    from services.platform.db import make_async_engine
    from services.platform.signing import PublicKeys

    engine = make_async_engine(owner_settings)  # an insider with the database
    keys = Trust.local(PublicKeys.load(settings.signing_keys_dir))
    tenant, sid = world.other_tenant, world.other_call.session_id
    try:
        good = await badge(engine, keys, tenant, sid)
        assert good.verified and good.covered and good.entries == world.other_call.events
        where = ("tenant_id = :t AND position = (SELECT min(position) FROM ledger_entries "
                 "WHERE tenant_id = :t AND session_id = :s)")
        async with engine.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            good_leaf = (await conn.execute(text(f"SELECT leaf_hash FROM ledger_entries WHERE "
                                                 f"{where}"), {"t": tenant, "s": sid})).scalar_one()
            await conn.execute(text(f"UPDATE ledger_entries SET leaf_hash = "
                                    f"sha256(leaf_hash) WHERE {where}"), {"t": tenant, "s": sid})
        try:
            bad = await badge(engine, keys, tenant, sid)
            assert not bad.verified and bad.problem == "RootMismatchError"
        finally:
            async with engine.begin() as conn:
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
                await conn.execute(text(f"UPDATE ledger_entries SET leaf_hash = :h WHERE {where}"),
                                   {"t": tenant, "s": sid, "h": good_leaf})
    finally:
        await engine.dispose()
