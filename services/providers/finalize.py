"""Freeze the builder: settle turn times, heard durations and heard text from the audio.

A live session is frozen again on every rebuild, so nothing here walks the whole session's audio:
:class:`Frozen` keeps the frozen chunks and each agent turn's audio sums up to date as chunks
arrive (the builder tells it) and are cut (the sums of that turn are made again from its
chunks, in the same order, so a freeze gives the same floats whenever it happens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.providers.timeline import AudioChunk, Timeline, ToolCall, Turn

if TYPE_CHECKING:
    from services.providers.builder import Builder, ChunkState, TurnState


class TurnAudio:
    """An agent turn's chunks (in arrival order) and what :func:`_turn` reads of them, summed
    left to right as ``sum`` would: ``counted`` chunks are in the sums."""

    __slots__ = ("chunks", "counted", "generated_ms", "heard_end", "heard_ms", "played_start")

    def __init__(self) -> None:
        self.chunks: list[ChunkState] = []
        self.reset()

    def reset(self) -> None:
        self.counted = 0
        self.generated_ms: float = 0
        self.heard_ms: float = 0
        self.played_start: float | None = None  # first chunk that entered the playback queue
        self.heard_end: float | None = None  # latest end of heard audio

    def update(self) -> TurnAudio:
        for c in self.chunks[self.counted:]:
            heard = c.heard_bytes / c.format.bytes_per_ms
            self.generated_ms += c.duration_ms
            self.heard_ms += heard
            if not c.dropped:
                if self.played_start is None:
                    self.played_start = c.start_ms
                if c.heard_bytes:
                    end = c.start_ms + heard
                    if self.heard_end is None or end > self.heard_end:
                        self.heard_end = end
        self.counted = len(self.chunks)
        return self


class Frozen:
    """The builder's chunks as last frozen, and its agent turns' audio."""

    __slots__ = ("chunks", "recut", "turns")

    def __init__(self) -> None:
        self.chunks: list[AudioChunk] = []  # by index in ``Builder.chunks``
        self.recut: set[int] = set()  # chunks cut since they were frozen
        self.turns: dict[str, TurnAudio] = {}

    def agent_chunk(self, c: ChunkState) -> None:
        assert c.turn_id is not None
        audio = self.turns.get(c.turn_id)
        if audio is None:
            audio = self.turns[c.turn_id] = TurnAudio()
        audio.chunks.append(c)

    def turn_chunks(self, turn_id: str) -> list[ChunkState]:
        audio = self.turns.get(turn_id)
        return audio.chunks if audio is not None else []

    def cut(self, c: ChunkState) -> None:
        """``c.heard_bytes`` went down."""
        if c.index < len(self.chunks):
            self.recut.add(c.index)
        if c.turn_id is not None:
            self.turns[c.turn_id].reset()

    def update(self, chunks: list[ChunkState]) -> tuple[AudioChunk, ...]:
        frozen = self.chunks
        for i in self.recut:
            frozen[i] = _frozen(chunks[i])
        self.recut.clear()
        frozen.extend(map(_frozen, chunks[len(frozen):]))
        return tuple(frozen)


def _frozen(c: ChunkState) -> AudioChunk:
    return AudioChunk(c.track, c.format, c.byte_offset, c.byte_length, c.start_ms, c.duration_ms,
                      c.seq, c.turn_id, c.heard_bytes)


def freeze(b: Builder) -> Timeline:
    chunks = b.frozen.update(b.chunks)
    # No caller audio in the record (OpenAI over WebRTC): VAD offsets are placed by the
    # provider's own clock instead of the arrival of the events that carry them.
    clock = None if b.caller_chunks else b.clock_zero_ms
    audio = b.frozen.turns
    turns = sorted((_turn(b, t, audio.get(t.turn_id), clock) for t in b.turns.values()),
                   key=lambda t: (t.start_ms, t.first_seq))
    tools = tuple(
        ToolCall(t.call_id, t.name, t.arguments, t.started_ms, t.seq, t.result, t.is_error,
                 t.ended_ms, t.cancelled, t.turn_id)
        for t in sorted(b.tools.values(), key=lambda t: t.seq)
    )
    return Timeline(
        chunks=chunks, turns=tuple(turns), truncations=tuple(b.truncations), tool_calls=tools,
        configs=tuple(b.configs), provider_errors=tuple(b.provider_errors),
        usage=tuple(b.usage), unknown=tuple(b.unknown), frame_errors=tuple(b.frame_errors),
        markers=tuple(b.markers), providers=tuple(b.providers), bridged=b.bridged,
        end_ms=b.end_ms,
    )


def _turn(b: Builder, t: TurnState, audio: TurnAudio | None, clock: float | None) -> Turn:
    generated_text = "".join(t.generated)
    text = t.transcript if t.transcript is not None else generated_text
    start, end = t.start_ms, t.end_ms
    generated_ms = heard_ms = None
    if t.speaker == "caller":
        vad_start, vad_end = t.vad_start_ms, t.vad_end_ms
        if clock is not None:
            if t.clock_start_ms is not None:
                vad_start = max(0.0, clock + t.clock_start_ms)
            if t.clock_end_ms is not None:
                vad_end = max(0.0, clock + t.clock_end_ms)
        if vad_start is not None:
            start = vad_start
        if vad_end is not None:
            end = max(start, vad_end)
    elif audio is not None and audio.chunks:
        sums = audio.update()
        generated_ms, heard_ms = sums.generated_ms, sums.heard_ms
        start = sums.played_start if sums.played_start is not None else audio.chunks[0].start_ms
        end = sums.heard_end if sums.heard_end is not None else start
    else:
        if t.cut_ms is not None:
            heard_ms = t.cut_ms  # no audio in the record (WebRTC): the player's word is all we have
        report = b.playback.get(t.response_id or "")
        if report is not None:
            start, end = _played(report.started_ms, report.ended_ms, heard_ms, start, end)
    status = t.status
    if status != "failed" and (t.cut or t.cancelled):
        # generated is not heard: a cancelled generation is "interrupted"; a finished one that
        # the caller did not hear to the end is "truncated"
        status = "interrupted" if t.cancelled else "truncated"
    elif status == "in_progress":
        status = "completed"
    heard_text, approximate = t.heard_text, False
    if t.speaker == "agent" and heard_text is None and status in ("truncated", "interrupted"):
        heard_text, approximate = _heard_prefix(text, heard_ms, generated_ms)
    return Turn(
        speaker=t.speaker, turn_id=t.turn_id, status=status, start_ms=start, end_ms=max(start, end),
        generated_text=generated_text, transcript=t.transcript, heard_text=heard_text,
        heard_text_approximate=approximate, generated_ms=generated_ms, heard_ms=heard_ms,
        response_id=t.response_id, first_seq=t.first_seq, modality=t.modality,
    )


def _played(started: float | None, ended: float | None, heard_ms: float | None,
            start: float, end: float) -> tuple[float, float]:
    """An agent turn timed by the provider's playback reports (WebRTC): from the start of playback
    to its stop or clear, or to the truncation's heard position when that is what is known."""
    if started is not None:
        start = started
    elif ended is not None and heard_ms is not None:
        start = max(0.0, ended - heard_ms)  # began before the record did; heard for heard_ms
    if started is not None and heard_ms is not None:
        end = started + heard_ms
    elif ended is not None:
        end = ended
    return start, max(start, end)


def _heard_prefix(text: str, heard_ms: float | None, generated_ms: float | None
                  ) -> tuple[str | None, bool]:
    """Output audio has no word timings: cut the text in proportion, at a word boundary."""
    if heard_ms is None:
        return None, False
    if heard_ms <= 0:
        return "", False
    if not generated_ms or heard_ms >= generated_ms:
        return (text, False) if generated_ms else (None, False)
    cut = int(len(text) * heard_ms / generated_ms)
    space = text.rfind(" ", 0, cut + 1)
    return text[: space if space > 0 else cut].rstrip(), True
