"""`voxledger import`, `sessions show` and `search` as a user runs them, on a real captured
OpenAI beta WebRTC log (tests/fixtures/transcripts/README.md), with the catalog and the transcript
projections (and a sealer) running in-process under private names."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from services.ledger.catalog import SessionCatalog
from services.ledger.catalog_models import SessionRow
from services.platform.settings import Settings
from services.transcripts.consumer import make_transcripts
from services.transcripts.models import TranscriptSession
from tests.integration.consumers import isolate, running

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
LOG = REPO / "tests" / "fixtures" / "transcripts" / "openai_beta_webrtc_log_1.jsonl"
GREETING = ("Hi there! Thank you for calling. My name is Sarah. How can I assist you with your "
            "billing issue today?")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "200"})


@contextlib.asynccontextmanager
async def consumers(settings: Settings, tenant: str) -> AsyncIterator[None]:
    """The catalog and the transcript builder of ``tenant`` (with a private sealer)."""
    catalog = isolate(SessionCatalog(), "catalog-e2e", tenant)
    builder = isolate(make_transcripts(settings), "transcripts-e2e", tenant)
    async with running(settings, catalog), running(settings, builder):
        yield


async def processed(engine: Engine, tenant: str, session: str, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        with engine.connect() as conn:
            events = conn.execute(select(SessionRow.events).where(
                SessionRow.tenant_id == tenant, SessionRow.session_id == session)).scalar()
            frames = conn.execute(select(TranscriptSession.frames).where(
                TranscriptSession.tenant_id == tenant,
                TranscriptSession.session_id == session)).scalar()
        if events and frames == events:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("consumers did not catch up in time")


async def test_real_openai_log_imported_shows_turns_cuts_and_tool_call(
        settings: Settings, tenant: str, session_id: str, sync_engine: Engine) -> None:
    imported = cli("import", "--provider", "openai-realtime-beta", "--tenant", tenant,
                   "--session", session_id, "--json", str(LOG))
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["errors"] == []
    async with consumers(settings, tenant):
        await processed(sync_engine, tenant, session_id)

    shown = cli("sessions", "show", session_id, "--tenant", tenant, "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert {"session_id", "tenant_id", "provider", "started_at", "ended_at", "duration_ms",
            "events", "turns", "tool_calls"} <= set(info)
    assert (info["session_id"], info["tenant_id"]) == (session_id, tenant)
    turns = [(t["speaker"], t["status"], t["text"], t["heard_text"], t["approximate"])
             for t in info["turns"]]
    assert turns == [
        ("agent", "truncated", GREETING, "Hi there! Thank you for calling. My name is Sarah.",
         True),  # cut at 4000 ms; no audio on WebRTC: read at speech rate, flagged
        ("caller", "completed", "Go with that.", "Go with that.", False),
        ("agent", "completed", "I'm here to help! What can I do for you today?",
         "I'm here to help! What can I do for you today?", False),
        ("agent", "interrupted", "I'm going to transfer", "", False),  # cancelled, heard 0 ms
    ]
    assert [t["heard_ms"] for t in info["turns"]] == [4000, None, None, 0]
    assert all({"start_ms", "end_ms"} <= set(t) for t in info["turns"])
    # WebRTC carries no audio: turns follow the provider's clocks. The greeting ends when its
    # playback was cleared (400 ms), the caller spoke 4308..4896 ms of input audio and stopped by
    # 600 ms (so from 12 ms), the answer played from output_audio_buffer.started (1900 ms).
    assert [(t["start_ms"], t["end_ms"]) for t in info["turns"]] == [
        (0, 400), (12, 600), (1900, 3100), (3200, 3400)]
    assert [t["modality"] for t in info["turns"]] == ["audio"] * 4  # spoken, none typed
    (call,) = info["tool_calls"]
    assert call["name"] == "transferToSupervisor" and call["result"] is None
    assert json.loads(call["arguments"])["destination_agent_name"] == "marco_supervisor_biller"

    human = cli("sessions", "show", session_id, "--tenant", tenant)
    assert human.returncode == 0, human.stderr
    out = human.stdout
    for expected in ("✂ truncated", "heard ≈4.00 s", "caller Go with that.", "✗ interrupted",
                     "heard 0.00 s", "⚙ tool transferToSupervisor", "generated: I'm going to"):
        assert expected in out, (expected, out)

    found = cli("search", "billing", "--tenant", tenant, "--json")
    assert found.returncode == 0, found.stderr
    assert [h["session_id"] for h in json.loads(found.stdout)["hits"]] == []  # cut before it
    found = cli("search", "Sarah", "--tenant", tenant, "--json")
    (hit,) = json.loads(found.stdout)["hits"]
    assert hit["session_id"] == session_id and "[[Sarah]]" in hit["snippet"]
    never_heard = cli("search", "transfer", "--tenant", tenant, "--json")
    assert json.loads(never_heard.stdout)["hits"] == []
    human_search = cli("search", "Sarah", "--tenant", tenant)
    assert session_id in human_search.stdout and "1 match" in human_search.stdout

    listed = cli("sessions", "list", "--tenant", tenant, "--json")
    assert [s["session_id"] for s in json.loads(listed.stdout)["sessions"]] == [session_id]
