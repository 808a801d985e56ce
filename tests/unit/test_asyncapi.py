"""The committed AsyncAPI document (docs/asyncapi.json) is what the code generates, and it
names every subject kind, system event and envelope field the code has."""

from __future__ import annotations

import json
import re
from pathlib import Path

from schemas.batch import BATCH_KIND, COUNT_HEADER, FORMAT_HEADER, batch_id
from schemas.envelope import SUBJECT_KINDS, Direction, Envelope, kind_of
from schemas.system_events import SYSTEM_EVENTS
from services.platform.asyncapi import PREFIX, render, system_envelopes

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_committed_document_is_what_the_code_generates() -> None:
    assert COMMITTED.read_text() == render(), (
        "docs/asyncapi.json is stale: run `voxledger asyncapi --out docs/asyncapi.json`")


def test_every_subject_kind_has_a_publish_channel_and_the_sealer_receives_them_all() -> None:
    doc = json.loads(render())
    assert doc["asyncapi"] == "3.0.0"
    sends = {doc["channels"][op["channel"]["$ref"].split("/")[-1]]["address"]
             for op in doc["operations"].values() if op["action"] == "send"}
    assert sends == {f"{PREFIX}.{{tenant}}.{{session}}.{k}" for k in (*SUBJECT_KINDS, BATCH_KIND)}
    receives = [op for op in doc["operations"].values() if op["action"] == "receive"]
    assert [doc["channels"]["sealer"]["address"]] == [
        doc["channels"][op["channel"]["$ref"].split("/")[-1]]["address"] for op in receives]
    assert doc["channels"]["sealer"]["parameters"]["kind"]["enum"] == [*SUBJECT_KINDS, BATCH_KIND]


def test_every_system_event_and_envelope_field_is_in_the_document() -> None:
    schemas = json.loads(render())["components"]["schemas"]
    for model in system_envelopes():
        props = schemas[model.__name__]["properties"]
        assert set(props) == set(Envelope.model_fields)
        assert props["direction"]["const"] == "system"
    consts = {schemas[m.__name__]["properties"]["type"]["const"] for m in system_envelopes()}
    assert consts == set(SYSTEM_EVENTS)
    for payload in {m.__name__ for m in SYSTEM_EVENTS.values()}:
        assert payload in schemas


def test_kind_of_returns_only_the_documented_kinds() -> None:
    seen = {kind_of(Direction.SYSTEM, "session.started", {}),
            kind_of(Direction.SERVER, "response.output_audio.delta", {}),
            kind_of(Direction.SERVER, "response.text.delta", {}),
            kind_of(Direction.SERVER, "serverContent",
                    {"serverContent": {"modelTurn": {"parts": [{"inlineData": {}}]}}})}
    assert seen == set(SUBJECT_KINDS)


def test_every_message_carries_the_dedupe_header_not_a_correlation_id() -> None:
    for message in json.loads(render())["components"]["messages"].values():
        assert message["headers"]["required"] == ["Nats-Msg-Id"]
        assert "correlationId" not in message


def test_the_batch_channel_documents_its_id_format_and_count_headers() -> None:
    messages = json.loads(render())["components"]["messages"]
    headers = messages[f"recorder:{BATCH_KIND}:Message"]["headers"]
    assert {"Nats-Msg-Id", FORMAT_HEADER, COUNT_HEADER} <= set(headers["properties"])
    pattern = headers["properties"]["Nats-Msg-Id"]["pattern"]
    assert re.fullmatch(pattern, batch_id(["a", "b"]))
