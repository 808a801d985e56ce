"""Freeze the builder: settle turn times, heard durations and heard text from the audio."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.providers.timeline import AudioChunk, Timeline, ToolCall, Turn

if TYPE_CHECKING:
    from services.providers.builder import Builder, ChunkState, TurnState


def _frozen(c: ChunkState) -> AudioChunk:
    f = c.frozen
    if f is None or f.heard_bytes != c.heard_bytes:
        f = c.frozen = AudioChunk(c.track, c.format, c.byte_offset, c.byte_length, c.start_ms,
                                  c.duration_ms, c.seq, c.turn_id, c.heard_bytes)
    return f


def freeze(b: Builder) -> Timeline:
    chunks = tuple(map(_frozen, b.chunks))
    by_turn: dict[str, list[ChunkState]] = {}
    for c in b.chunks:
        if c.track == "agent" and c.turn_id is not None:
            by_turn.setdefault(c.turn_id, []).append(c)
    # No caller audio in the record (OpenAI over WebRTC): VAD offsets are placed by the
    # provider's own clock instead of the arrival of the events that carry them.
    clock = None if any(c.track == "caller" for c in b.chunks) else b.clock_zero_ms
    turns = sorted((_turn(b, t, by_turn.get(t.turn_id, []), clock) for t in b.turns.values()),
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


def _turn(b: Builder, t: TurnState, audio: list[ChunkState], clock: float | None) -> Turn:
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
    elif audio:
        generated_ms = sum(c.duration_ms for c in audio)
        heard_ms = sum(c.heard_bytes / c.format.bytes_per_ms for c in audio)
        played = [c for c in audio if not c.dropped]
        start = played[0].start_ms if played else audio[0].start_ms
        heard_end = [c.start_ms + c.heard_bytes / c.format.bytes_per_ms for c in played
                     if c.heard_bytes]
        end = max(heard_end) if heard_end else start
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
