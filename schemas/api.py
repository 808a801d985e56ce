"""Response models of the HTTP API (``services/api``), version 1.

Kept apart from the routes so clients and the console share one contract. Models of content
(turns, tool calls, snippets) say in their name whether they carry original or redacted text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SessionSummary(_Model):
    session_id: str
    provider: str
    started_at: str | None
    ended_at: str | None
    duration_ms: int | None
    events: int
    end_reason: str | None


class SessionPage(_Model):
    sessions: list[SessionSummary]
    next_cursor: str | None


class Completeness(_Model):
    sealed: bool
    entries: int
    gaps: list[list[int]]
    missing: int
    duplicates: int
    ended: bool
    timed_out: bool
    erased: bool


class AudioTrack(_Model):
    status: str
    duration_ms: int | None
    sample_rate: int
    channels: int
    pcm_sha256: str | None
    gaps: list[dict[str, Any]]


class RedactedTurn(_Model):
    turn_id: str
    speaker: str
    status: str
    start_ms: int
    end_ms: int
    text: str | None
    withheld: str | None


class OriginalTurn(_Model):
    turn_id: str
    speaker: str
    status: str
    start_ms: int
    end_ms: int
    text: str | None
    heard_text: str | None
    approximate: bool
    heard_ms: int | None
    generated_ms: int | None
    language: str | None
    withheld: str | None
    modality: str = "audio"  # "text" when the app typed the turn (issue 13)


class ToolCallName(_Model):
    """A tool call without its arguments and result (those may carry PII)."""

    call_id: str
    name: str
    started_ms: int
    ended_ms: int | None
    is_error: bool
    cancelled: bool


class OriginalToolCall(_Model):
    call_id: str
    name: str
    arguments: str | None
    result: str | None
    is_error: bool
    cancelled: bool
    started_ms: int
    ended_ms: int | None
    turn_id: str | None
    withheld: str | None


class RedactedTranscript(_Model):
    policy_version: int | None
    redacted_at: str
    current: bool
    turns: list[RedactedTurn]
    tool_calls: list[ToolCallName]


class OriginalTranscript(_Model):
    language: str | None
    turns: list[OriginalTurn]
    tool_calls: list[OriginalToolCall]


class SessionDetail(_Model):
    session_id: str
    provider: str
    started_at: str | None
    ended_at: str | None
    duration_ms: int | None
    events: int
    end_reason: str | None
    event_kinds: dict[str, int]
    completeness: Completeness
    audio: dict[str, AudioTrack]
    view: str  # metadata | redacted | original
    # redacted view: the stored redaction, or None while the session is not redacted yet
    redacted: RedactedTranscript | None = None
    original: OriginalTranscript | None = None


class SearchHit(_Model):
    session_id: str
    turn_id: str
    speaker: str
    status: str
    start_ms: int
    end_ms: int
    provider: str
    started_at: str | None
    rank: float
    snippet: str | None


class SearchResult(_Model):
    view: str  # redacted | original
    hits: list[SearchHit]


class AccessEvent(_Model):
    position: int
    event_id: str
    type: str
    recorded_at: str
    body: dict[str, Any]


class AccessLog(_Model):
    events: list[AccessEvent]
    next_after: int | None


class VerifyIssue(_Model):
    message: str
    position: int | None
    session: str | None
    object: str | None


class VerifyStatus(_Model):
    ok: bool
    entries: int
    sessions: int
    checkpoints: int
    audio_objects: int
    erased_sessions: int
    errors: list[VerifyIssue]
    warnings: list[VerifyIssue]


class CheckpointInfo(_Model):
    size: int
    root: str  # base64
    note: str  # the C2SP signed note
    worm_key: str


class Checkpoints(_Model):
    origin: str
    vkey: str  # C2SP verifier key of the tenant's log
    checkpoints: list[CheckpointInfo]


class InclusionProof(_Model):
    position: int
    size: int
    leaf_hash: str  # base64
    root: str
    proof: list[str]
    checkpoint: str  # the signed note of this size


class ConsistencyProof(_Model):
    size1: int
    size2: int
    root1: str
    root2: str
    proof: list[str]


class TrainingExportStatus(_Model):
    export_id: str
    format: str
    since: str | None
    sessions: int
    complete: bool
    manifest_sha256: str | None
    created_at: str
    updated_at: str


class Hold(_Model):
    """A legal hold. A subject hold names the kind of identifier, never its value."""

    hold_id: str
    scope: str  # session | subject | tenant
    session_id: str | None
    subject_kind: str | None  # phone_e164 | email | customer_id
    matter: str
    reason: str
    placed_by: str
    placed_at: str
    active: bool
    released_by: str | None
    released_at: str | None
    release_reason: str | None


class HoldList(_Model):
    holds: list[Hold]


class ErasureAccepted(_Model):
    """What a new erasure request says: the same fields whether or not sessions match."""

    request_id: str
    kind: str
    status: str  # received | refused (a legal hold; see its status)
    received_at: str
    due_at: str


class ErasureStatus(_Model):
    request_id: str
    kind: str
    status: str  # received | running | completed | refused | failed
    sessions: list[str]
    stores: dict[str, dict[str, Any]]
    residue: dict[str, Any]
    received_at: str
    due_at: str
    overdue: bool
    extension_reason: str | None
    refused: str | None  # why, naming the legal hold's matter
    completion_position: int | None


class ErasureSummary(_Model):
    request_id: str
    kind: str
    status: str
    sessions: int
    received_at: str
    due_at: str
    overdue: bool


class ErasureList(_Model):
    requests: list[ErasureSummary]


class RetentionReport(_Model):
    """The tenant's retention policies and what a disposition run would do today (dry run)."""

    policies: dict[str, Any]
    plan: dict[str, Any]
