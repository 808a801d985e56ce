"""From a session's timeline to transcript rows (pure: no I/O).

- Heard text: a completed agent turn was heard in full; a cut one takes, in order of preference,
  what the provider said was heard (ElevenLabs ``agent_response_correction``), the characters whose
  alignment start falls inside the heard audio (ElevenLabs ``audio_event.alignment``: exact), or
  a proportional cut by words over the generated audio length (``approximate``). Without the
  generated length (WebRTC records carry no audio) the heard duration is read at a typical speech
  rate, also ``approximate``.
  A caller turn's heard text is its transcript: what the caller said is what was recorded.
- Recording paused (card payments): a turn or tool call overlapping a paused span keeps its place,
  timing and status, but its text is withheld (``withheld = "recording.paused"``), as DESIGN.md
  asks of every projection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from schemas.envelope import Direction, Envelope
from services.providers.timeline import AudioChunk, Timeline, ToolCall, Turn

PAUSED: Final = "recording.paused"
# Typical synthesized speech (about 150 words a minute): only used when no audio length is known.
WORDS_PER_SECOND: Final = 2.5
CUT: Final = ("truncated", "interrupted")


@dataclass(frozen=True)
class TurnRow:
    turn_id: str
    ordinal: int
    speaker: str
    status: str
    start_ms: int
    end_ms: int
    text: str | None
    generated_text: str | None
    heard_text: str | None
    approximate: bool
    heard_ms: int | None
    generated_ms: int | None
    language: str | None
    response_id: str | None
    withheld: str | None
    modality: str  # "audio" (spoken) or "text" (typed by the app)


@dataclass(frozen=True)
class ToolRow:
    call_id: str
    ordinal: int
    name: str
    arguments: str | None
    result: str | None
    is_error: bool
    cancelled: bool
    started_ms: int
    ended_ms: int | None
    turn_id: str | None
    withheld: str | None


@dataclass(frozen=True)
class SessionSummary:
    provider: str
    agent: str | None
    model: str | None
    language: str | None
    started_at: datetime | None
    ended_at: datetime | None
    timeline_ms: int
    turns: int
    interrupted: bool
    has_tool_call: bool
    frame_errors: int


@dataclass(frozen=True)
class Transcript:
    summary: SessionSummary
    turns: tuple[TurnRow, ...]
    tool_calls: tuple[ToolRow, ...]


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def paused_spans(tl: Timeline) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    opened: float | None = None
    for m in sorted(tl.markers, key=lambda m: m.seq):
        if m.kind == "recording.paused" and opened is None:
            opened = m.at_ms
        elif m.kind == "recording.resumed" and opened is not None:
            spans.append((opened, m.at_ms))
            opened = None
    if opened is not None:
        spans.append((opened, float("inf")))
    return spans


def _in_spans(start: float, end: float, spans: Iterable[tuple[float, float]]) -> bool:
    return any(start < b and max(end, start + 1e-6) > a for a, b in spans)


def alignment_heard(chunks: Sequence[AudioChunk], alignments: dict[int, dict[str, Any]]
                    ) -> str | None:
    """Characters whose start lies inside the heard part of their chunk; None unless every
    chunk of the turn carries an alignment (a partial alignment would silently drop text)."""
    if not chunks or any(c.seq not in alignments for c in chunks):
        return None
    out: list[str] = []
    for c in chunks:
        a = alignments[c.seq]
        chars, starts = a.get("chars"), a.get("char_start_times_ms")
        if not isinstance(chars, list) or not isinstance(starts, list) or len(chars) != len(starts):
            return None
        out.extend(str(ch) for ch, s in zip(chars, starts, strict=True)
                   if isinstance(s, int | float) and s < c.heard_ms)
    return "".join(out).strip()


def _alignment(e: Envelope) -> dict[str, Any] | None:
    if e.type == "audio" and isinstance(e.payload.get("audio_event"), dict):
        a = e.payload["audio_event"].get("alignment")
        if isinstance(a, dict):
            return a
    return None


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


# The top-level keys under which a frame may configure the session's language.
_LANGUAGE_ROOTS: Final = ("session", "setup", "conversation_config_override")


def _language(p: dict[str, Any]) -> str | None:
    """The language this one frame configures, if any (the last candidate found wins)."""
    if p.keys().isdisjoint(_LANGUAGE_ROOTS):
        return None  # audio and most events: a lookup per root instead of five paths
    language: str | None = None
    candidates = (
        _get(p, "session", "input_audio_transcription", "language"),  # OpenAI beta
        _get(p, "session", "audio", "input", "transcription", "language"),  # OpenAI GA
        _get(p, "setup", "generationConfig", "speechConfig", "languageCode"),  # Gemini
        _get(p, "setup", "generation_config", "speech_config", "language_code"),
        _get(p, "conversation_config_override", "agent", "language"),  # ElevenLabs
    )
    for value in candidates:
        if isinstance(value, str) and 0 < len(value) <= 16:
            language = value
    return language


def session_language(envs: Sequence[Envelope]) -> str | None:
    """The language a session was configured for, when a provider frame says so."""
    return EnvFacts().extend(envs).language


@dataclass
class EnvFacts:
    """What :func:`project` reads from the envelopes themselves (not the timeline), folded over
    the first ``fed`` envelopes in seq order: the configured language (the last frame naming one
    wins), ElevenLabs alignments by seq, the first ``session.started`` and ``session.ended``, and
    the first envelope. A live session's facts are extended with the frames that arrived since,
    so a rebuild reads only those, not the whole call again (the frame cache drops them when late
    frames land inside what was folded)."""

    fed: int = 0
    language: str | None = None
    alignments: dict[int, dict[str, Any]] = field(default_factory=dict)
    first: Envelope | None = None
    started: Envelope | None = None
    ended: Envelope | None = None

    def extend(self, envs: Sequence[Envelope]) -> EnvFacts:
        """Fold ``envs[fed:]`` in: ``envs`` are the session's envelopes in seq order, whose
        first ``fed`` are the ones already folded."""
        for e in envs[self.fed:]:
            if self.first is None:
                self.first = e
            if e.direction is Direction.SYSTEM:
                if e.type == "session.started" and self.started is None:
                    self.started = e
                elif e.type == "session.ended" and self.ended is None:
                    self.ended = e
            language = _language(e.payload)
            if language is not None:
                self.language = language
            a = _alignment(e)
            if a is not None:
                self.alignments[e.seq] = a
        self.fed = max(self.fed, len(envs))
        return self


class _TurnAudio:
    """The agent chunks of each turn, gathered on first use: only a cut turn of a session with
    alignments reads them, and a live session's timeline holds all of its chunks."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.by_turn: dict[str, list[AudioChunk]] | None = None

    def __call__(self, turn_id: str) -> list[AudioChunk]:
        if self.by_turn is None:
            self.by_turn = {}
            for c in self.tl.chunks:
                if c.track == "agent" and c.turn_id is not None:
                    self.by_turn.setdefault(c.turn_id, []).append(c)
        return self.by_turn.get(turn_id, [])


def _heard(t: Turn, chunks: Callable[[str], Sequence[AudioChunk]],
           alignments: dict[int, dict[str, Any]]) -> tuple[str | None, bool]:
    text = t.transcript if t.transcript is not None else t.generated_text
    if t.speaker == "caller" or t.status not in CUT:
        return text, False
    if t.heard_text is not None and not t.heard_text_approximate:
        return t.heard_text, False  # the provider's own word (correction) or nothing heard
    # No alignment at all: alignment_heard's answer is None whatever the chunks.
    exact = alignment_heard(chunks(t.turn_id), alignments) if alignments else None
    if exact is not None:
        return exact, False
    return words_heard(text, t.heard_ms, t.generated_ms)


def words_heard(text: str, heard_ms: float | None, generated_ms: float | None
                ) -> tuple[str | None, bool]:
    """The first words of ``text`` in proportion to the heard share of the audio (an estimate:
    output audio has no word timings). A word counts once its whole share was played."""
    if heard_ms is None:
        return None, False
    if heard_ms <= 0:
        return "", False
    words = text.split()
    if generated_ms:
        if heard_ms >= generated_ms:
            return text, False
        keep = int(len(words) * heard_ms / generated_ms)
    else:
        keep = int(heard_ms / 1000 * WORDS_PER_SECOND)
        if keep >= len(words):
            return text, True
    return " ".join(words[:keep]), True


def _turn_row(i: int, t: Turn, chunks: Callable[[str], Sequence[AudioChunk]],
              alignments: dict[int, dict[str, Any]], spans: list[tuple[float, float]],
              language: str | None) -> TurnRow:
    withheld = PAUSED if _in_spans(t.start_ms, t.end_ms, spans) else None
    text: str | None = (t.transcript if t.transcript is not None else t.generated_text).strip()
    heard, approximate = _heard(t, chunks, alignments)
    heard = heard.strip() if heard is not None else None  # Whisper ends transcripts with "\n"
    if withheld:
        text = heard = None
        approximate = False
    return TurnRow(
        turn_id=t.turn_id, ordinal=i, speaker=t.speaker, status=t.status,
        start_ms=_ms(t.start_ms) or 0, end_ms=_ms(t.end_ms) or 0, text=text,
        generated_text=None if withheld else t.generated_text, heard_text=heard,
        approximate=approximate, heard_ms=_ms(t.heard_ms), generated_ms=_ms(t.generated_ms),
        language=language, response_id=t.response_id, withheld=withheld, modality=t.modality)


def _tool_row(i: int, c: ToolCall, spans: list[tuple[float, float]]) -> ToolRow:
    withheld = PAUSED if _in_spans(c.started_ms, c.ended_ms or c.started_ms, spans) else None
    return ToolRow(
        call_id=c.call_id, ordinal=i, name=c.name,
        arguments=None if withheld else c.arguments, result=None if withheld else c.result,
        is_error=c.is_error, cancelled=c.cancelled, started_ms=_ms(c.started_ms) or 0,
        ended_ms=_ms(c.ended_ms), turn_id=c.turn_id, withheld=withheld)


def _summary(tl: Timeline, facts: EnvFacts, turns: Sequence[TurnRow],
             tools: Sequence[ToolRow]) -> SessionSummary:
    started, ended, first = facts.started, facts.ended, facts.first
    declared = _get(started.payload, "provider") if started else None
    provider = declared if isinstance(declared, str) and len(declared) <= 32 else (
        first.provider.value if first else "unknown")
    agent = _get(started.payload, "agent") if started else None
    model = _get(started.payload, "model") if started else None
    return SessionSummary(
        provider=provider, agent=agent if isinstance(agent, str) else None,
        model=model if isinstance(model, str) else None, language=facts.language,
        started_at=started.recorded_at if started else (first.recorded_at if first else None),
        ended_at=ended.recorded_at if ended else None, timeline_ms=_ms(tl.end_ms) or 0,
        turns=len(turns), interrupted=any(t.status in CUT for t in turns),
        has_tool_call=bool(tools), frame_errors=len(tl.frame_errors))


def project(tl: Timeline, envs: Sequence[Envelope], facts: EnvFacts | None = None
            ) -> Transcript:
    """``envs`` are the envelopes ``tl`` was interpreted from, in seq order; ``facts``, when
    given, were folded over a prefix of them (a live session's, see :class:`EnvFacts`)."""
    facts = (EnvFacts() if facts is None else facts).extend(envs)
    spans = paused_spans(tl)
    chunks = _TurnAudio(tl)
    turns = tuple(_turn_row(i, t, chunks, facts.alignments, spans, facts.language)
                  for i, t in enumerate(tl.turns))
    tools = tuple(_tool_row(i, c, spans) for i, c in enumerate(tl.tool_calls))
    return Transcript(_summary(tl, facts, turns, tools), turns, tools)
