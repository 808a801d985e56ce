"""What the console's pages show, built from the API's JSON (pure: dicts in, view dicts out).

Templates escape every string (Jinja2 autoescape); this module only splits text into pieces the
templates mark up: matched words of a snippet, PII placeholders of a redacted text (``<PHONE_NUMBER>``,
``<PERSON_1>``: the redaction policy's typed placeholders and pseudonyms), the heard part of an
agent turn and the generated-but-unheard remainder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

# ts_headline's marks (services/transcripts/reads.HEADLINE) around matched words.
_MATCH: Final = re.compile(r"\[\[(.*?)\]\]", re.S)
_PII: Final = re.compile(r"<([A-Z][A-Z0-9_]{1,40}?)(?:_(\d{1,4}))?>")
CUT: Final = frozenset({"truncated", "interrupted"})


@dataclass(frozen=True)
class Piece:
    text: str
    kind: str = "text"  # text | match | pii
    label: str = ""  # the entity type of a pii piece


def pii_pieces(text: str, kind: str = "text") -> list[Piece]:
    """``text`` split into plain pieces and typed PII placeholders."""
    out: list[Piece] = []
    last = 0
    for m in _PII.finditer(text):
        if m.start() > last:
            out.append(Piece(text[last:m.start()], kind))
        label = m.group(1).replace("_", " ").lower()
        out.append(Piece(m.group(0), "pii", label + (f" {m.group(2)}" if m.group(2) else "")))
        last = m.end()
    if last < len(text):
        out.append(Piece(text[last:], kind))
    return out


def snippet_pieces(snippet: str | None) -> list[Piece]:
    """A search snippet with its matched words as ``match`` pieces (PII placeholders kept typed)."""
    out: list[Piece] = []
    last = 0
    text = snippet or ""
    for m in _MATCH.finditer(text):
        out += pii_pieces(text[last:m.start()])
        out += pii_pieces(m.group(1), "match")
        last = m.end()
    out += pii_pieces(text[last:])
    return out


def clock(ms: float | None) -> str:
    if ms is None:
        return "--:--"
    total = max(0.0, float(ms)) / 1000
    return f"{int(total // 60):02d}:{total % 60:04.1f}"


@dataclass
class TurnView:
    index: int
    turn_id: str
    speaker: str
    status: str
    start_ms: int
    end_ms: int
    heard: list[Piece]
    unheard: str | None  # original view: the generated text the caller never heard
    unheard_hidden: bool  # redacted view: a remainder exists but only the original shows it
    cut_at_ms: int | None  # where the caller stopped hearing the turn (timeline ms)
    approximate: bool
    withheld: str | None


@dataclass
class ToolView:
    name: str
    start_ms: int
    end_ms: int | None
    arguments: str | None
    result: str | None
    is_error: bool
    cancelled: bool
    withheld: str | None


@dataclass
class SessionView:
    view: str
    turns: list[TurnView] = field(default_factory=list)
    tools: list[ToolView] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    audio_gaps: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: int = 0
    redaction_pending: bool = False

    @property
    def items(self) -> list[TurnView | ToolView]:
        """Turns and tool calls on one timeline (a tool call after the turn starting with it)."""
        both: list[tuple[int, int, TurnView | ToolView]] = [(t.start_ms, 0, t) for t in self.turns]
        both += [(c.start_ms, 1, c) for c in self.tools]
        return [x for _, _, x in sorted(both, key=lambda x: (x[0], x[1]))]


def _remainder(generated: str | None, heard: str | None) -> str | None:
    """The generated text past what was heard; None when nothing was cut off."""
    if not generated:
        return None
    if heard is None:
        return generated  # nothing known to be heard: all of it is unheard
    if generated.startswith(heard):
        rest = generated[len(heard):]
        return rest if rest.strip() else None
    return generated if generated.strip() != heard.strip() else None


def _turn(i: int, t: dict[str, Any], original: bool) -> TurnView:
    cut = t["speaker"] == "agent" and t["status"] in CUT
    if original:
        heard_text = t.get("heard_text") if cut else (t.get("heard_text") or t.get("text"))
        unheard = _remainder(t.get("text"), t.get("heard_text")) if cut else None
        heard_ms = t.get("heard_ms")
        cut_at = t["start_ms"] + int(heard_ms) if cut and heard_ms is not None else None
        approx = bool(t.get("approximate"))
    else:
        heard_text, unheard, approx = t.get("text"), None, False
        # A cut turn's heard text ends where the caller stopped hearing it.
        cut_at = int(t["end_ms"]) if cut else None
    return TurnView(index=i, turn_id=t["turn_id"], speaker=t["speaker"], status=t["status"],
                    start_ms=int(t["start_ms"]), end_ms=int(t["end_ms"]),
                    heard=[] if t.get("withheld") else pii_pieces(heard_text or ""),
                    unheard=unheard, unheard_hidden=cut and not original,
                    cut_at_ms=cut_at, approximate=approx, withheld=t.get("withheld"))


def session_view(detail: dict[str, Any]) -> SessionView:
    """The session page's timeline from ``GET /v1/sessions/{id}`` in any view."""
    original = detail.get("original")
    body = original or detail.get("redacted")
    out = SessionView(view=detail.get("view", "metadata"),
                      duration_ms=int(detail.get("duration_ms") or 0))
    out.redaction_pending = detail.get("view") == "redacted" and body is None
    if body:
        out.turns = [_turn(i, t, original is not None) for i, t in enumerate(body["turns"])]
        out.tools = [ToolView(name=c["name"], start_ms=int(c["started_ms"]),
                              end_ms=c.get("ended_ms"), arguments=c.get("arguments"),
                              result=c.get("result"), is_error=bool(c.get("is_error")),
                              cancelled=bool(c.get("cancelled")), withheld=c.get("withheld"))
                     for c in body["tool_calls"]]
    for t in out.turns:
        if t.withheld:
            out.withheld.append({"start_ms": t.start_ms, "end_ms": t.end_ms,
                                 "reason": t.withheld})
    for track in (detail.get("audio") or {}).values():
        out.audio_gaps += [g for g in track.get("gaps") or []]
    out.warnings = completeness_warnings(detail.get("completeness") or {})
    if out.audio_gaps:
        out.warnings.append(f"{len(out.audio_gaps)} gap(s) in the audio (marked on the lanes)")
    if not out.duration_ms and out.turns:
        out.duration_ms = max(t.end_ms for t in out.turns)
    return out


def completeness_warnings(c: dict[str, Any]) -> list[str]:
    found = []
    if c.get("missing"):
        spans = ", ".join(f"{a}-{b}" for a, b in c.get("gaps", [])[:5])
        found.append(f"{c['missing']} event(s) missing from the ledger (seq {spans})")
    if c.get("duplicates"):
        found.append(f"{c['duplicates']} duplicate event(s) were delivered and ignored")
    if c.get("timed_out"):
        found.append("the session never ended: it timed out")
    elif c and not c.get("ended"):
        found.append("the session has not ended (still recording, or its end was lost)")
    if c.get("erased"):
        found.append("the session's key was destroyed (erased): content is unreadable")
    return found
