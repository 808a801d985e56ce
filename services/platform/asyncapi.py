"""The stream's AsyncAPI 3 document, generated from the code (``voxledger asyncapi``).

A FastStream :class:`~faststream.nats.NatsBroker` declares what crosses NATS: the recorder's
JetStream publishes (one channel per subject kind, ``<prefix>.<tenant>.<session>.<kind>``, and
the batch channel ``<prefix>.<tenant>.<session>.batch`` of :mod:`schemas.batch`) and the sealer's
durable subscription, each with the pydantic contracts of :mod:`schemas.envelope`
and :mod:`schemas.system_events`. The broker is never connected: it is the spec's source only.
The sealer runs on :class:`~services.platform.consumer.PullConsumer` (README "Consumer
entrypoints" has the bench that kept it there).

FastStream leaves out three things AsyncAPI 3 and this stream need, added after generation:
channel ``parameters`` for the ``{tenant}``/``{session}``/``{kind}`` placeholders and the
``Nats-Msg-Id`` header (``= event_id``, or a batch's id with its format and count headers;
FastStream's own ``correlation_id`` is not used); and the channels are sorted, so the document is
byte-stable.
The committed copy is ``docs/asyncapi.json``; a unit test fails when it differs from this.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal, Union

from faststream.nats import JStream, NatsBroker, PullSub
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field, create_model

from schemas.batch import (
    BATCH_FORMAT,
    BATCH_KIND,
    COUNT_HEADER,
    FORMAT_HEADER,
    MAX_BATCH_BYTES,
    MAX_BATCH_FRAMES,
)
from schemas.envelope import (
    AUDIO_TYPES,
    MAX_ENVELOPE_BYTES,
    SCHEMA_VERSION,
    SUBJECT_KINDS,
    Direction,
    Envelope,
)
from schemas.system_events import SYSTEM_EVENTS
from services.platform.settings import Settings

TITLE = "Voxledger stream"
# The document describes the defaults; a deployment may change the prefix and stream name.
PREFIX: str = Settings.model_fields["subject_prefix"].default
STREAM: str = Settings.model_fields["stream_name"].default
SUBJECT = PREFIX + ".{tenant}.{session}.{kind}"

_PARAMETERS: dict[str, dict[str, Any]] = {
    "tenant": {"description": "tenant id, `^[a-z0-9-]{1,63}$` (the envelope's `tenant_id`)"},
    "session": {"description": "session id, `^[A-Za-z0-9_-]{1,128}$` (the envelope's "
                               "`session_id`)"},
    "kind": {"description": "`system` for the recorder's own events, `audio` for provider "
                            "frames carrying audio, `event` for every other frame (one envelope "
                            "each); `batch` for several envelopes of one session",
             "enum": [*SUBJECT_KINDS, BATCH_KIND]},
}
_HEADERS = {
    "type": "object",
    "properties": {"Nats-Msg-Id": {
        "type": "string",
        "description": "the envelope's `event_id`: JetStream drops a republished copy within "
                       "the stream's duplicate window (spool replay, retries)"}},
    "required": ["Nats-Msg-Id"],
}
_BATCH_HEADERS = {
    "type": "object",
    "properties": {
        "Nats-Msg-Id": {
            "type": "string", "pattern": "^vxb1-[0-9a-f]{64}$",
            "description": "the batch id: `vxb1-` + SHA-256 of its members' event ids joined by "
                           "newlines, so a replayed batch is dropped by JetStream like a frame"},
        FORMAT_HEADER: {"type": "string", "const": BATCH_FORMAT,
                        "description": "the body's format (optional on the way in)"},
        COUNT_HEADER: {"type": "string", "pattern": "^[0-9]+$",
                       "description": f"members in the body, 2..{MAX_BATCH_FRAMES} (optional "
                                      "on the way in; a mismatch refuses the message)"}},
    "required": ["Nats-Msg-Id"],
}
_BATCH_TEXT = (
    "A batch of one session's frames (`schemas/batch.py`), what the recorder SDK publishes: "
    f"up to {MAX_BATCH_FRAMES} envelopes (the SDK: 64, or what 50 ms collect) in `seq` order, "
    "each the compact JSON of one envelope (the payload below), joined by a newline "
    f"(`{BATCH_FORMAT}`), the body at most {MAX_BATCH_BYTES} bytes. Every member keeps its own "
    "`event_id` and `seq` and becomes its own ledger entry; a member that does not decode, or "
    "names another tenant or session than the subject, is dead-lettered alone.")


def _system_envelope(type_: str, payload: type[BaseModel]) -> type[Envelope]:
    name = "".join(p.capitalize() for p in re.split(r"[._]", type_)) + "Envelope"
    fields: dict[str, Any] = {"direction": (Literal[Direction.SYSTEM], ...),
                              "type": (Literal[type_], ...), "payload": (payload, ...)}
    model: type[Envelope] = create_model(name, __base__=Envelope,
                                         __doc__=f"A `{type_}` system event.", **fields)
    return model


def system_envelopes() -> list[type[Envelope]]:
    """One envelope model per system event type, its payload the event's own model."""
    return [_system_envelope(t, m) for t, m in SYSTEM_EVENTS.items()]


def _system_union() -> Any:
    models = tuple(system_envelopes())
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


def build_broker() -> NatsBroker:
    """The stream's publishers and subscribers as a FastStream broker (never connected)."""
    broker = NatsBroker(
        specification_url="nats://localhost:4222",
        description="the stack's NATS (`voxledger up` writes `VOXLEDGER_NATS_URL`)")
    stream = JStream(STREAM, subjects=[f"{PREFIX}.>"], declare=False)
    system = _system_union()
    kinds: dict[str, tuple[Any, str]] = {
        "system": (system, "The recorder's framing events (session.started ... session.ended), "
                           "payloads typed per `type`."),
        "audio": (Envelope, "Provider frames that carry audio: `type` in "
                            + ", ".join(f"`{t}`" for t in sorted(AUDIO_TYPES))
                            + ", or a Gemini `serverContent` with `inlineData` parts."),
        "event": (Envelope, "Every other provider frame, kept verbatim in `payload`."),
    }
    broker.publisher(
        f"{PREFIX}.{{tenant}}.{{session}}.{BATCH_KIND}", stream=stream, schema=Envelope,
        title=f"recorder:{BATCH_KIND}",
        description=f"The recorder SDK's JetStream publish (`Recorder`, services/recorder). "
                    f"{_BATCH_TEXT}")
    for kind in SUBJECT_KINDS:
        schema, text = kinds[kind]
        broker.publisher(
            f"{PREFIX}.{{tenant}}.{{session}}.{kind}", stream=stream, schema=schema,
            title=f"recorder:{kind}",
            description=f"The recorder SDK's JetStream publish (`Recorder`, "
                        f"services/recorder). {text}")

    async def seal(envelope: Any) -> None:
        raise NotImplementedError  # the spec's source only; the sealer runs on PullConsumer

    # Set, not written: the annotation is built at run time from SYSTEM_EVENTS.
    seal.__annotations__ = {"envelope": Union[system, Envelope], "return": None}  # noqa: UP007

    broker.subscriber(
        SUBJECT, stream=stream, durable="sealer",
        pull_sub=PullSub(batch_size=500, timeout=0.5, batch=False), title="sealer",
        description=(
            "The ledger sealer (services/ledger/sealer.py): the only durable consumer of the "
            f"raw stream (filter `{PREFIX}.*.>`; a tenant partition `{PREFIX}.<tenant>.>`). "
            "Ordered pull batches of up to 500 messages (a batch message's members are "
            "events of their own); each fetch is sealed in one Postgres transaction and acked "
            "after commit, once (AckPolicy.ALL: the last message). A frame that does not "
            "decode, breaks the ingest bounds or whose subject disagrees with its envelope is "
            "dead-lettered."),
    )(seal)
    return broker


def generate() -> dict[str, Any]:
    """The AsyncAPI 3 document as JSON-ready data."""
    spec = AsyncAPI(
        build_broker(), title=TITLE, version=f"envelope-v{SCHEMA_VERSION}",
        schema_version="3.0.0",
        description=(
            f"Realtime voice frames, one envelope per provider frame, on the JetStream stream "
            f"`{STREAM}` (subjects `{PREFIX}.>`). Subjects are `{SUBJECT}`: one envelope per "
            f"message on a kind's subject, or a `{BATCH_KIND}` of one session's envelopes. "
            f"Envelopes are JSON of at most {MAX_ENVELOPE_BYTES} bytes, identifiers "
            "pattern-checked so no wildcard or PII reaches a subject. Generated by "
            "`voxledger asyncapi`; do not edit."))
    doc: dict[str, Any] = json.loads(spec.to_specification().to_json())
    for channel in doc.get("channels", {}).values():
        names = re.findall(r"{(\w+)}", channel["address"])
        if names:
            channel["parameters"] = {n: _PARAMETERS[n] for n in names}
    for name, message in doc.get("components", {}).get("messages", {}).items():
        message.pop("correlationId", None)
        batch = name.startswith(f"recorder:{BATCH_KIND}:")
        message["headers"] = _BATCH_HEADERS if batch else _HEADERS
    # FastStream keeps publishers in a set: sorted here, so the document is byte-stable.
    for parent, key in ((doc, "channels"), (doc, "operations"),
                        (doc.get("components", {}), "messages"),
                        (doc.get("components", {}), "schemas")):
        if key in parent:
            parent[key] = dict(sorted(parent[key].items()))
    return doc


def render() -> str:
    return json.dumps(generate(), indent=2, ensure_ascii=False) + "\n"
