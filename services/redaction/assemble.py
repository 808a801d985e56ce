"""One call as one batch for the engine: its turns and its tool-call values, and the rows that
come back. Pure logic.

Turns and tool-call slots go through the engine together, as one session, so a name the agent
typed into ``save_contact({"name": …})`` is also redacted where the caller said it, and one
``<PERSON_1>`` labels that person in turns and tool calls alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.redaction.repository import SourceToolCall, SourceTurn
from services.redaction.results import RedactedTurn, Utterance
from services.redaction.tools import Slot, parse, question_for, rebuild, slots


@dataclass
class Batch:
    items: list[Utterance] = field(default_factory=list)
    whole: list[str | None] = field(default_factory=list)
    turn_at: dict[int, int] = field(default_factory=dict)  # turn index → item index
    # per tool call: [(field, document, is_json, [(slot, item index)])]
    calls: list[list[tuple[str, Any, bool, list[tuple[Slot, int]]]]] = field(
        default_factory=list)

    def add(self, utterance: Utterance, whole: str | None = None) -> int:
        self.items.append(utterance)
        self.whole.append(whole)
        return len(self.items) - 1


def batch(turns: list[SourceTurn], calls: list[SourceToolCall]) -> Batch:
    """Every turn with heard text (a caller turn with the agent's last turn as context), then
    every slot of every tool call that is not withheld."""
    out = Batch()
    last_agent: str | None = None
    for k, t in enumerate(turns):
        if t.withheld or not t.heard_text:
            continue
        if t.speaker == "agent":
            out.turn_at[k] = out.add(Utterance(t.heard_text, speaker="agent"))
            last_agent = t.heard_text
        else:
            out.turn_at[k] = out.add(Utterance(t.heard_text, last_agent, "caller"))
    for call in calls:
        parts: list[tuple[str, Any, bool, list[tuple[Slot, int]]]] = []
        if not call.withheld:
            for name, raw in (("arguments", call.arguments), ("result", call.result)):
                doc, is_json = parse(raw)
                found = [(s, out.add(Utterance(s.text, question_for(s.key), "caller"), s.entity))
                         for s in slots(doc, is_json)]
                parts.append((name, doc, is_json, found))
        out.calls.append(parts)
    return out


def call_rows(calls: list[SourceToolCall], b: Batch,
              done: list[RedactedTurn]) -> list[dict[str, Any]]:
    """Rows for ``redacted_tool_calls``: JSON with every slot replaced; findings as field, key
    path, type and span (never values)."""
    rows: list[dict[str, Any]] = []
    for call, parts in zip(calls, b.calls, strict=True):
        row: dict[str, Any] = {
            "call_id": call.call_id, "ordinal": call.ordinal, "name": call.name,
            "arguments": None, "result": None, "is_error": call.is_error,
            "started_ms": call.started_ms, "ended_ms": call.ended_ms,
            "withheld": call.withheld, "findings": []}
        for name, doc, is_json, found in parts:
            replaced = {s.path: done[i].text for s, i in found}
            row[name] = rebuild(doc, is_json, replaced)
            row["findings"].extend(
                {"field": name, "path": [str(p) for p in s.path], "type": f.entity_type,
                 "start": f.start, "end": f.end, "score": f.score}
                for s, i in found for f in done[i].findings)
        rows.append(row)
    return rows
