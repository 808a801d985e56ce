"""Full-text search over heard text: a phrase spoken in one of 20 sessions finds that session
only, ranked, with a snippet; filters narrow the hits."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from services.platform.settings import Settings
from services.simulator import simulate
from services.simulator.script import build_script
from services.transcripts.reads import SearchFilters, search
from tests.integration.test_transcripts_consumer import frames_kept, running_transcripts, wait_for

pytestmark = pytest.mark.integration
ADDRESS = re.compile(r"My new address is (\d+) ([A-Za-z]+ [A-Za-z]+), [A-Za-z]+, (\d{5})\.")


async def test_a_phrase_from_one_of_20_sessions_finds_that_session_only(
        settings: Settings, tenant: str, sync_engine: Engine) -> None:
    seed = random.randrange(1, 10**6)
    sims = await simulate(settings, "elevenlabs", sessions=20, seed=seed, tenant=tenant)
    check = frames_kept(sync_engine, tenant)
    async with running_transcripts(settings, tenant):
        await wait_for(lambda: check({s.session_id: s.events for s in sims}))  # type: ignore[arg-type]

    texts = {s.session_id: " ".join(t.text for t in build_script(s.seed).turns) for s in sims}
    target = sims[7]
    match = ADDRESS.search(texts[target.session_id])
    assert match is not None
    number, street, zipcode = match.groups()
    phrase = f"{number} {street}"
    others = [sid for sid, text in texts.items() if sid != target.session_id
              and phrase in text and zipcode in text]
    assert others == []  # the precondition: only one session says it

    words = f'"{phrase}" {zipcode}'
    with sync_engine.connect() as conn:
        hits = search(conn, words, SearchFilters(tenant=tenant))
        assert [h["session_id"] for h in hits] == [target.session_id]
        (hit,) = hits
        assert hit["speaker"] == "caller" and hit["rank"] > 0
        assert f"[[{number}]]" in hit["snippet"] and f"[[{zipcode}]]" in hit["snippet"]
        # a common word is in every session, ranked
        common = search(conn, "account", SearchFilters(tenant=tenant, limit=100))
        assert {h["session_id"] for h in common} == set(texts)
        ranks = [h["rank"] for h in common]
        assert ranks == sorted(ranks, reverse=True)
        # filters
        def only(**kw: object) -> list[str]:
            return [h["session_id"] for h in search(conn, words, SearchFilters(
                tenant=tenant, **kw))]  # type: ignore[arg-type]
        assert only(provider="elevenlabs") == [target.session_id]
        assert only(provider="gemini-live") == []
        assert only(agent="billing-assistant") == [target.session_id]
        assert only(agent="someone-else") == []
        assert only(interrupted=True, has_tool_call=True) == [target.session_id]
        assert only(interrupted=False) == [] and only(has_tool_call=False) == []
        now = datetime.now(UTC)
        assert only(since=now - timedelta(hours=1), until=now + timedelta(hours=1)) == [
            target.session_id]
        assert only(since=now + timedelta(hours=1)) == []
        # another tenant never sees it
        assert search(conn, words, SearchFilters(tenant=tenant + "x")) == []
        # heard text only: the due date is said only in the agent turn nobody heard (0 ms)
        assert all("fifteenth" not in t.text or t.heard_ms == 0
                   for t in build_script(target.seed).turns)
        assert search(conn, "fifteenth", SearchFilters(tenant=tenant)) == []
