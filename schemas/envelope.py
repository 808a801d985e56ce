"""The event envelope: one per provider frame, published to NATS and sealed into the ledger.

The provider frame is kept verbatim in ``payload``; everything else is the recorder's stamp.
Identifiers are constrained so they can appear in NATS subjects, object keys and log lines
without ever carrying PII or path/SQL metacharacters.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

SCHEMA_VERSION: Final = 1
# An envelope is one realtime frame (audio chunks are ~20-100 ms). 1 MiB leaves room for the
# largest legitimate frames (session configs with many tool schemas) and refuses abuse early.
MAX_ENVELOPE_BYTES: Final = 1024 * 1024
# Deeply nested JSON is a denial-of-service vector for every downstream parser.
MAX_JSON_DEPTH: Final = 64
# Every stored integer lands in a Postgres BIGINT (seq, mono_ns, positions, a session.ended's
# last_seq, a recorder.gap's seqs): one beyond it would fail the whole batch at INSERT time.
INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)

TenantId = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,63}$")]
SessionId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
EventType = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/-]+$")]


class Provider(StrEnum):
    OPENAI_REALTIME = "openai-realtime"
    OPENAI_REALTIME_BETA = "openai-realtime-beta"
    GEMINI_LIVE = "gemini-live"
    ELEVENLABS = "elevenlabs"
    TWILIO_MEDIA = "twilio-media"
    CUSTOM = "custom"


class Direction(StrEnum):
    CLIENT = "client"  # sent by the gateway to the provider
    SERVER = "server"  # received from the provider
    SYSTEM = "system"  # the recorder's own framing events


class EnvelopeError(ValueError):
    """A frame that is not a valid envelope. The message names the problem, never the content."""


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    schema_version: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)
    event_id: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    tenant_id: TenantId
    session_id: SessionId
    seq: int = Field(ge=0, le=INT64_MAX)
    provider: Provider
    direction: Direction
    type: EventType
    recorded_at: AwareDatetime
    mono_ns: int = Field(ge=0, le=INT64_MAX)
    payload: dict[str, Any]

    @field_validator("recorded_at")
    @classmethod
    def _utc_representable(cls, v: datetime) -> datetime:
        # "0001-01-01T00:00:00+05:00" is a valid aware datetime whose UTC value is year 0:
        # every later conversion (leaf bytes, Postgres) would raise OverflowError.
        try:
            v.astimezone(UTC)
        except (OverflowError, ValueError):
            raise PydanticCustomError("datetime_out_of_range",
                                      "not representable in UTC") from None
        return v

    @field_validator("payload")
    @classmethod
    def _storable(cls, v: dict[str, Any]) -> dict[str, Any]:
        problem = storable_problem(v)
        if problem is not None:
            raise PydanticCustomError(problem, "payload cannot be stored as received")
        return v

    @property
    def kind(self) -> str:
        return kind_of(self.direction, self.type, self.payload)


# Subject kinds let consumers that never need audio (transcripts, redaction) skip the bulk of
# the stream: audio frames are ~95% of the bytes of a call. The subject is part of this contract,
# so the table of audio frame types lives here; ``services.providers.frames`` (where each type's
# audio bytes are) re-exports it and refuses to import if the two ever disagree.
AUDIO_TYPES: Final = frozenset(
    {
        "input_audio_buffer.append",
        "response.audio.delta",
        "response.output_audio.delta",
        "media",
        "audio",
        "user_audio_chunk",
        "realtimeInput",
        "realtime_input",
        "audio.input",
        "audio.output",
    }
)


def storable_problem(value: Any) -> str | None:
    """Why ``value`` (parsed JSON) cannot be stored as-is, as an error code; None if it can.

    Postgres text and jsonb refuse NUL (``\\u0000`` parses to one), strings must encode to
    UTF-8 (a lone surrogate does not), integers must fit BIGINT and floats be finite. Keys are
    checked like values. Iterative: depth is bounded elsewhere, but no recursion here either.
    """
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "nul_character"
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return "invalid_unicode"
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return "integer_out_of_range"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "number_not_finite"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


@dataclass(frozen=True)
class Limits:
    """Bounds that depend on configuration and the recorder's clock, checked at ingest.

    Not part of the model: an envelope sealed within them must stay readable forever after.
    ``max_past_s`` covers the NATS buffer (7 days) plus a spool drained late; ``max_future_s``
    covers clock skew and an import (stamped from its start, so it can run ahead by its
    length); ``max_call_s`` bounds the session timeline (``mono_ns``), which is what memory and
    recordings scale with.
    """

    max_past_s: float = 35 * 86400.0
    max_future_s: float = 86400.0
    max_call_s: float = 8 * 3600.0


def check_limits(env: Envelope, limits: Limits, now: datetime) -> None:
    """Raise :class:`EnvelopeError` naming the field when ``env`` is outside ``limits``."""
    age = (now - env.recorded_at).total_seconds()
    if age > limits.max_past_s:
        raise EnvelopeError("invalid envelope: recorded_at: too_far_in_past")
    if -age > limits.max_future_s:
        raise EnvelopeError("invalid envelope: recorded_at: too_far_in_future")
    if env.mono_ns > limits.max_call_s * 1e9:
        raise EnvelopeError("invalid envelope: mono_ns: exceeds_max_call_length")


# The last token of a subject (``subject_for``): what ``kind_of`` can return.
SUBJECT_KINDS: Final = ("system", "audio", "event")


def kind_of(direction: Direction, type_: str, payload: dict[str, Any]) -> str:
    if direction is Direction.SYSTEM:
        return "system"
    if type_ in AUDIO_TYPES:
        return "audio"
    if type_ in ("serverContent", "server_content"):
        turn = payload.get("serverContent") or payload.get("server_content") or {}
        parts = (turn.get("modelTurn") or turn.get("model_turn") or {}).get("parts") or []
        if any(isinstance(p, dict) and ("inlineData" in p or "inline_data" in p) for p in parts):
            return "audio"
    return "event"


def subject_for(env: Envelope, prefix: str = "voice") -> str:
    """``voice.<tenant>.<session>.<kind>``: ids are pattern-checked, so no wildcard can sneak in."""
    return f"{prefix}.{env.tenant_id}.{env.session_id}.{env.kind}"


def encode_envelope(env: Envelope) -> bytes:
    data = env.model_dump_json().encode()
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"envelope is {len(data)} bytes; the limit is {MAX_ENVELOPE_BYTES}")
    return data


def _depth(value: Any, limit: int) -> int:
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def decode_envelope(data: bytes, limits: Limits | None = None,
                    now: datetime | None = None) -> Envelope:
    """Parse and validate bytes from the wire. Raises EnvelopeError with a content-free reason.

    With ``limits``, also the ingest bounds against ``now`` (default: the current UTC time).
    """
    env = _decode(data)
    if limits is not None:
        check_limits(env, limits, now or datetime.now(UTC))
    return env


def _decode(data: bytes) -> Envelope:
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(f"envelope is {len(data)} bytes; the limit is {MAX_ENVELOPE_BYTES}")
    if b"\x00" in data:
        raise EnvelopeError("envelope contains NUL bytes")
    # Fast path (nearly every frame): JSON cannot nest deeper than it has brackets, so with few
    # of them the depth walk is moot and one parse by pydantic does. Anything it refuses goes
    # through the full path below, so the reasons are the same either way.
    if data.count(b"{") + data.count(b"[") <= MAX_JSON_DEPTH:
        try:
            return Envelope.model_validate_json(data)
        except ValidationError:
            pass
    try:
        raw = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise EnvelopeError(f"not valid UTF-8 JSON ({type(exc).__name__})") from None
    if not isinstance(raw, dict):
        raise EnvelopeError(f"envelope must be a JSON object, got {type(raw).__name__}")
    if _depth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise EnvelopeError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return Envelope.model_validate_json(data)
    except ValidationError as exc:
        raise EnvelopeError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """Field locations and error kinds only: never echo input values (they may be PII)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{loc}: {err['type']}")
    return "invalid envelope: " + "; ".join(parts)
