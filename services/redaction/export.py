"""Training export, pure part: which sessions go, their JSONL lines, the manifest, the export id.

Only redacted text leaves: lines are built from ``redacted_turns`` rows, never from transcripts.
A session goes when its latest training consent is ``granted`` at export time and its redaction
is current (made under the tenant's current policy from the latest transcript revision).

Formats, one line per session:

- ``openai-chat``: ``{"messages": [{"role": "user"|"assistant", "content": ...}]}`` (chat
  fine-tuning): caller → user, agent → assistant, heard redacted text; consecutive turns of one
  speaker (a withheld turn between them, a barge-in) are joined into one message. Each tool call,
  in time order, is an assistant message with ``tool_calls: [{"id", "type": "function",
  "function": {"name", "arguments"}}]`` (the redacted JSON as a string) and its result a
  ``{"role": "tool", "tool_call_id", "content"}`` message;
- ``jsonl``: ``{"session_id", "started_at", "turns": [{"speaker", "status", "start_ms",
  "end_ms", "text"}], "tool_calls": [{"id", "name", "arguments", "result", "is_error",
  "started_ms", "ended_ms"}]}`` with withheld turns and calls as ``"withheld": reason`` and no
  text.

A session the redaction held back (a call not in the policy's language under
``other_languages: hold``) is never exported; it is counted under ``excluded.held``.

The export id is a hash of the parameters, the policy and the set of sessions: the same export
run twice has the same id, writes the same keys and adds no lineage rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas.system_events import ConsentScope, ConsentState
from services.redaction.consent import covers_training

ROLES = {"caller": "user", "agent": "assistant"}
SESSIONS_PER_FILE = 5_000


class ExportFormat(StrEnum):
    OPENAI_CHAT = "openai-chat"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class Candidate:
    """An ended session of the tenant, as the export query sees it."""

    session_id: str
    started_at: datetime | None
    training: str | None  # latest training consent state, None without any
    redaction_policy: str | None  # policy hash of the stored redaction, None if not redacted
    redaction_current: bool  # made from the latest transcript revision
    held: str | None = None  # why the redaction holds it back from export ("language:fr")


@dataclass(frozen=True, slots=True)
class Selection:
    sessions: list[Candidate]
    excluded: dict[str, int]


def select_sessions(candidates: Sequence[Candidate], policy_hash: str,
                    since: datetime | None) -> Selection:
    excluded = {"no_training_consent": 0, "not_redacted": 0, "before_since": 0, "held": 0}
    chosen = []
    for c in candidates:
        if since is not None and (c.started_at is None or c.started_at < since):
            excluded["before_since"] += 1
        elif not _training(c.training):
            excluded["no_training_consent"] += 1
        elif c.redaction_policy != policy_hash or not c.redaction_current:
            excluded["not_redacted"] += 1  # pending, or under an older policy: reprocess
        elif c.held is not None:
            excluded["held"] += 1  # e.g. another language: never exported as if clean
        else:
            chosen.append(c)
    return Selection(sorted(chosen, key=lambda c: c.session_id), excluded)


def _training(state: str | None) -> bool:
    if state is None:
        return False
    try:
        return covers_training({ConsentScope.TRAINING: ConsentState(state)})
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str
    status: str
    start_ms: int
    end_ms: int
    text: str | None
    withheld: str | None


@dataclass(frozen=True, slots=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str | None  # redacted
    result: str | None  # redacted
    is_error: bool
    started_ms: int
    ended_ms: int | None
    withheld: str | None


def export_id(tenant: str, fmt: ExportFormat, since: datetime | None, policy_hash: str,
              sessions: Sequence[str]) -> str:
    body = json.dumps({"v": 1, "tenant": tenant, "format": fmt.value,
                       "since": since.isoformat() if since else None, "policy": policy_hash,
                       "sessions": sorted(sessions)}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _call_ids(calls: Sequence[ToolCall]) -> dict[str, str]:
    """The provider's call ids are opaque tokens of its own; exports number calls per session
    instead ("call_1", …), so nothing of the provider's session leaks into training data."""
    return {c.call_id: f"call_{n}" for n, c in enumerate(calls, start=1)}


def _chat(turns: Sequence[Turn], calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    events: list[tuple[int, int, Turn | ToolCall]] = [(t.start_ms, 0, t) for t in turns]
    events += [(c.started_ms, 1, c) for c in calls if not c.withheld]
    messages: list[dict[str, Any]] = []
    ids = _call_ids(calls)
    for _, _, e in sorted(events, key=lambda x: (x[0], x[1])):
        if isinstance(e, ToolCall):
            messages.append({"role": "assistant", "tool_calls": [{
                "id": ids[e.call_id], "type": "function",
                "function": {"name": e.name, "arguments": e.arguments or "{}"}}]})
            if e.result is not None:
                messages.append({"role": "tool", "tool_call_id": ids[e.call_id],
                                 "content": e.result})
            continue
        if e.withheld or not e.text or not e.text.strip() or e.speaker not in ROLES:
            continue
        role, content = ROLES[e.speaker], e.text.strip()
        last = messages[-1] if messages else None
        if last and last["role"] == role and "tool_calls" not in last:
            last["content"] += " " + content
        else:
            messages.append({"role": role, "content": content})
    return messages


def session_line(fmt: ExportFormat, session: Candidate, turns: Sequence[Turn],
                 calls: Sequence[ToolCall] = ()) -> tuple[str, int] | None:
    """One JSONL line for a session and how many messages (or turns with text) it holds; None
    when nothing heard is left to export."""
    if fmt is ExportFormat.OPENAI_CHAT:
        messages = _chat(turns, calls)
        if not any(m.get("content") for m in messages if m["role"] in ("user", "assistant")):
            return None
        return _dumps({"messages": messages}), len(messages)
    rows: list[dict[str, Any]] = []
    for t in turns:
        row: dict[str, Any] = {"speaker": t.speaker, "status": t.status,
                               "start_ms": t.start_ms, "end_ms": t.end_ms}
        row.update({"withheld": t.withheld} if t.withheld else {"text": t.text or ""})
        rows.append(row)
    spoken = sum(1 for r in rows if r.get("text"))
    if not spoken:
        return None
    ids = _call_ids(calls)
    tools = [{"id": ids[c.call_id], "name": c.name, **({"withheld": c.withheld} if c.withheld else {
        "arguments": c.arguments, "result": c.result, "is_error": c.is_error}),
        "started_ms": c.started_ms, "ended_ms": c.ended_ms} for c in calls]
    return _dumps({"session_id": session.session_id,
                   "started_at": session.started_at.isoformat() if session.started_at else None,
                   "turns": rows, "tool_calls": tools}), spoken


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


@dataclass
class ExportFile:
    key: str
    body: bytes
    sessions: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def object_prefix(tenant: str, export: str) -> str:
    """Keys carry the tenant and export ids only (never a session id or any content)."""
    return f"training/{tenant}/{export}/"


def manifest(*, export: str, tenant: str, fmt: ExportFormat, since: datetime | None,
             policy_version: int, policy_hash: str, files: Sequence[ExportFile],
             sessions: Sequence[Candidate], messages: int,
             detector_versions: set[str], models: set[str],
             excluded: dict[str, int]) -> dict[str, Any]:
    """Deterministic (no wall clock): a re-run of the same export writes the same bytes when
    nothing changed; when it was written is in the ``training_exports`` row."""
    started = sorted(s.started_at for s in sessions if s.started_at is not None)
    return {
        "schema_version": 1,
        "export_id": export,
        "tenant_id": tenant,
        "format": fmt.value,
        "since": since.isoformat() if since else None,
        "policy": {"version": policy_version, "hash": policy_hash},
        "detector_versions": sorted(detector_versions),
        "models": sorted(models),
        "time_range": {"first_started_at": started[0].isoformat() if started else None,
                       "last_started_at": started[-1].isoformat() if started else None},
        "counts": {"sessions": sum(len(f.sessions) for f in files), "messages": messages,
                   "files": len(files), "excluded": excluded},
        "files": [{"key": f.key, "sha256": f.sha256, "bytes": len(f.body),
                   "sessions": len(f.sessions)} for f in files],
    }
