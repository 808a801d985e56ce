"""Issue 19 against real NATS, Postgres and SeaweedFS: a tool call carrying a phone number, a name
and an email is stored and exported without them; a French call is held back from the export;
the worker and the export record the default policy's version (2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine, select

from schemas.envelope import Provider
from schemas.system_events import ConsentScope, ConsentState, SessionStarted
from services.platform.db import make_async_engine
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.recorder import Recorder
from services.redaction.export_run import export_training
from services.redaction.models import RedactedToolCallRow, RedactedTurnRow, RedactionSession
from services.redaction.policy import DEFAULT_POLICY
from tests.integration.consumers import running, wait_for
from tests.integration.redaction_helpers import counts, redaction_for, transcripts_for

pytestmark = pytest.mark.integration

PHONE, NAME, EMAIL = "415-555-0187", "Marta Kowalczyk", "marta.kowalczyk@example.com"
SECRETS = ("555-0187", "5550187", "Marta", "Kowalczyk", "kowalczyk", "example.com")
CONSENT = {ConsentScope.RECORDING: ConsentState.GRANTED,
           ConsentScope.TRANSCRIPTION: ConsentState.GRANTED,
           ConsentScope.TRAINING: ConsentState.GRANTED}
ENGLISH = [
    ("agent", "Thanks for calling, who am I speaking with?"),
    ("caller", f"Hi, this is {NAME}, I want a callback about my order."),
    ("agent", "Sure, what's the best number and email?"),
    ("caller", f"It's four one five, five five five, oh one eight seven, and {EMAIL}."),
]
FRENCH = [
    ("agent", "Bonjour, je vous écoute, comment puis-je vous aider aujourd'hui ?"),
    ("caller", "Bonjour, je m'appelle Élodie Marchand et j'habite à Lyon, rue de la République."),
    ("agent", "Très bien, pouvez-vous me donner votre numéro de téléphone s'il vous plaît ?"),
    ("caller", "Oui, c'est le zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit."),
]


async def record(settings: Settings, tenant: str, session: str,
                 turns: list[tuple[str, str]], tool: bool) -> None:
    recorder = await Recorder.connect(settings, tenant)
    started = SessionStarted(provider="custom", consent=CONSENT)
    async with recorder.session(session, Provider.CUSTOM, started=started) as s:
        for k, (speaker, text) in enumerate(turns):
            turn = f"t{k}"
            if speaker == "caller":
                await s.server({"type": "transcript.user.final", "text": text, "turn_id": turn})
            else:
                await s.server({"type": "transcript.agent.final", "text": text, "turn_id": turn})
                await s.client({"type": "playback.stopped", "turn_id": turn, "heard_ms": 60_000})
        if tool:
            args = {"client_name": NAME, "client_phone": PHONE, "contact": {"email": EMAIL},
                    "summary": f"{NAME} wants a callback on {PHONE} about order 77",
                    "priority": 2}
            await s.server({"type": "tool.call", "call_id": "call_1", "name": "save_call_summary",
                            "arguments": json.dumps(args), "turn_id": "t3"})
            await s.client({"type": "tool.result", "call_id": "call_1", "is_error": False,
                            "output": json.dumps({"saved": True, "email_sent_to": EMAIL})})
    await recorder.close()


def rows(engine: Engine, tenant: str, model: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(model).where(model.tenant_id == tenant)).all())


async def test_tool_calls_are_redacted_and_other_languages_held(
        settings: Settings, tenant: str, sync_engine: Engine) -> None:
    await record(settings, tenant, "s-en", ENGLISH, tool=True)
    await record(settings, tenant, "s-fr", FRENCH, tool=False)
    seen = counts(sync_engine, tenant)

    async def both_redacted() -> bool:
        return await seen() == (2, 2)
    async with running(settings, transcripts_for(settings, tenant)), \
            running(settings, redaction_for(settings, tenant)):
        await wait_for(both_redacted)

    [call] = rows(sync_engine, tenant, RedactedToolCallRow)
    args, result = json.loads(call.arguments), json.loads(call.result)  # still valid JSON
    assert call.name == "save_call_summary" and call.policy_version == DEFAULT_POLICY.version
    assert args["client_name"].startswith("<PERSON_") and args["priority"] == 2
    assert args["client_phone"] == "<PHONE_NUMBER>" and args["contact"]["email"] == (
        "<EMAIL_ADDRESS>")
    assert "order 77" in args["summary"]
    stored = call.arguments + call.result + json.dumps(call.findings)
    assert not [s for s in SECRETS if s in stored]
    assert result["saved"] is True
    # The name typed into the tool and the name said in the call share one pseudonym.
    turns = {r.turn_id: r for r in rows(sync_engine, tenant, RedactedTurnRow)
             if r.session_id == "s-en"}
    assert args["client_name"] in (turns["t1"].text or "")

    sessions = {r.session_id: r for r in rows(sync_engine, tenant, RedactionSession)}
    assert sessions["s-en"].language == "en" and sessions["s-en"].held is None
    assert sessions["s-fr"].language == "fr" and sessions["s-fr"].held == "language:fr"
    assert {r.policy_version for r in sessions.values()} == {DEFAULT_POLICY.version}

    s3 = make_s3_client(settings)
    db = make_async_engine(settings)
    try:
        done = await export_training(db, s3, settings.bucket_exports, tenant)
    finally:
        await db.dispose()
    manifest = done.manifest
    assert manifest["policy"]["version"] == DEFAULT_POLICY.version == 4
    assert manifest["counts"]["sessions"] == 1 and manifest["counts"]["excluded"]["held"] == 1
    [part] = manifest["files"]
    body = s3.get_object(Bucket=done.bucket, Key=part["key"])["Body"].read().decode()
    [line] = body.splitlines()
    messages = json.loads(line)["messages"]
    [tool_msg] = [m for m in messages if "tool_calls" in m]
    assert tool_msg["tool_calls"][0]["function"]["name"] == "save_call_summary"
    assert json.loads(tool_msg["tool_calls"][0]["function"]["arguments"])["client_phone"] == (
        "<PHONE_NUMBER>")
    assert any(m["role"] == "tool" for m in messages)
    assert not [s for s in SECRETS if s in body]
    assert "Élodie" not in body and "Marchand" not in body
