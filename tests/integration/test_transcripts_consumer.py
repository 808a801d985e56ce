"""The transcript builder following the sealed ledger (real NATS, Postgres, S3): every simulated
provider gives back its script; late, duplicated and re-applied transcription events land in
their turn exactly once."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from schemas.envelope import Provider
from services.platform.settings import Settings
from services.recorder import Recorder
from services.simulator import SimulatedSession, simulate
from services.transcripts.consumer import make_transcripts
from services.transcripts.models import TranscriptSession, TranscriptTurn
from services.transcripts.reads import transcript
from tests.integration.consumers import isolate, running, wait_for

pytestmark = pytest.mark.integration


def running_transcripts(settings: Settings, tenant: str) -> Any:
    """A private builder that follows only this test's tenant (with a private sealer)."""
    return running(settings, isolate(make_transcripts(settings), "transcripts", tenant), stop_timeout=30)


def frames_kept(engine: Engine, tenant: str) -> Callable[[], Awaitable[bool]]:
    """True once every published event of the tenant was applied and its session rebuilt."""
    async def check(expected: dict[str, int]) -> bool:
        with engine.connect() as conn:
            rows = conn.execute(select(TranscriptSession.session_id, TranscriptSession.frames)
                                .where(TranscriptSession.tenant_id == tenant)).all()
        return {r.session_id: r.frames for r in rows} == expected
    return check  # type: ignore[return-value]


def _words(text: str) -> list[str]:
    return text.split()


def check_against_script(conn: Connection, sim: SimulatedSession,
                         paused: tuple[float, float]) -> None:
    got = transcript(conn, sim.tenant_id, sim.session_id)
    assert got is not None
    turns, script = got["turns"], sim.script.turns
    assert [t["speaker"] for t in turns] == [t.speaker for t in script]
    for g, w in zip(turns, script, strict=True):
        if paused[0] <= w.start_ms < paused[1]:  # card payment: the recording was paused
            assert (g["withheld"], g["text"], g["heard_text"]) == ("recording.paused", None, None)
            continue
        assert g["text"] == w.text
        if w.speaker == "caller" or w.status == "completed":
            assert (g["status"], g["heard_text"], g["approximate"]) == ("completed", w.text, False)
            continue
        if sim.provider in ("elevenlabs", "custom"):  # no "generation finished" signal
            assert g["status"] in ("truncated", "interrupted")
        else:
            assert g["status"] == w.status
        words = _words(w.text)
        cut = int(len(words) * (w.heard_ms or 0) / w.duration_ms)
        heard = _words(g["heard_text"])
        assert heard == words[: len(heard)] and abs(len(heard) - cut) <= 1, (g, cut)
        assert g["heard_ms"] is not None and abs(g["heard_ms"] - (w.heard_ms or 0)) <= 20
    tools = got["tool_calls"]
    assert [(c["call_id"], c["name"], c["arguments"], c["result"], c["cancelled"])
            for c in tools] == [(c.call_id, c.name, c.arguments, c.result, False)
                                for c in sim.script.tool_calls]
    assert all(c["ended_ms"] is not None and c["ended_ms"] >= c["started_ms"] for c in tools)


async def test_every_simulated_provider_gives_back_its_script(
        settings: Settings, tenant: str, sync_engine: Engine) -> None:
    sims = await simulate(settings, "all", sessions=1, seed=random.randrange(1, 10**6),
                          tenant=tenant)
    check = frames_kept(sync_engine, tenant)
    async with running_transcripts(settings, tenant):
        await wait_for(lambda: check({s.session_id: s.events for s in sims}))  # type: ignore[arg-type]
    with sync_engine.connect() as conn:
        for sim in sims:
            marks = {m.type: m.at_ms for m in _system_marks(sim)}
            check_against_script(conn, sim, (marks["recording.paused"],
                                             marks["recording.resumed"]))


def _system_marks(sim: SimulatedSession) -> list[Any]:
    from services.simulator.script import build_script

    # The simulator's script is a pure function of its seed: the marks are not in the result.
    return build_script(sim.seed).system_events


def item(kind: str, item_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "item_id": item_id, **extra}


async def publish_late_transcripts(settings: Settings, tenant: str, session: str) -> int:
    """Two user turns whose transcripts arrive after the next response (as in the real log),
    the first one twice, plus an unrelated agent response in between."""
    recorder = await Recorder.connect(settings, tenant)
    async with recorder.session(session, Provider.OPENAI_REALTIME) as s:
        for user, agent, words in (("u1", "a1", "first words"), ("u2", "a2", "second words")):
            await s.server(item("input_audio_buffer.committed", user))
            await s.server({"type": "conversation.item.added", "item": {
                "id": user, "type": "message", "role": "user", "content": []}})
            await s.server({"type": "response.output_audio_transcript.delta", "item_id": agent,
                            "delta": f"answer to {user}"})
            await s.server({"type": "response.done", "response": {
                "id": f"r-{agent}", "status": "completed",
                "output": [{"id": agent, "type": "message", "role": "assistant",
                            "content": []}]}})
            if user == "u2":  # u1's transcript only now, after the next response, and twice
                done = item("conversation.item.input_audio_transcription.completed", "u1",
                            transcript="first words")
                await s.server(done)
                await s.server(done)
            await s.server(item("conversation.item.input_audio_transcription.completed", user,
                                transcript=words) if user == "u2" else
                           {"type": "rate_limits.updated", "rate_limits": []})
    await recorder.close()
    return s.next_seq


async def test_late_and_duplicated_transcripts_land_once_in_their_turn(
        settings: Settings, tenant: str, session_id: str, sync_engine: Engine) -> None:
    events = await publish_late_transcripts(settings, tenant, session_id)
    check = frames_kept(sync_engine, tenant)
    async with running_transcripts(settings, tenant) as consumer:
        await wait_for(lambda: check({session_id: events}))  # type: ignore[arg-type]
        with sync_engine.connect() as conn:
            first = transcript(conn, tenant, session_id)
        # Apply everything again, in reverse order and split in two: nothing changes.
        engine = consumer.engine
        async with engine.begin() as aconn:
            envs = await consumer.reader.session_events(aconn, tenant, session_id)
        assert envs is not None and len(envs) == events
        for part in (envs[events // 2:][::-1], envs[:events // 2][::-1]):
            async with engine.begin() as aconn:
                await consumer.handler.handle(aconn, part)
    with sync_engine.connect() as conn:
        again = transcript(conn, tenant, session_id)
        n_turns = conn.execute(select(func.count()).select_from(TranscriptTurn).where(
            TranscriptTurn.tenant_id == tenant)).scalar_one()
    assert first == again
    assert first is not None
    turns = [(t["turn_id"], t["speaker"], t["text"], t["status"]) for t in first["turns"]]
    assert sorted(turns) == sorted([
        ("u1", "caller", "first words", "completed"),
        ("a1", "agent", "answer to u1", "completed"),
        ("u2", "caller", "second words", "completed"),
        ("a2", "agent", "answer to u2", "completed")])
    assert n_turns == 4
