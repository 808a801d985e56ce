"""Mutable state the interpreters fill while walking a session, frozen into a ``Timeline``.

Two clocks (wire-formats.md §0, "two time bases"):

- caller audio is placed by samples appended: each chunk follows the previous one, unless the
  stream visibly paused (then it starts at its own ``mono_ns``);
- agent audio is placed by playback position: a chunk plays when it arrives or when the audio
  queued before it has finished, whichever is later. A cut (truncate, clear, interruption) empties
  the queue, so the chunks scheduled past the cut were generated but never heard.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Final

from services.providers import finalize
from services.providers.formats import PCM24K
from services.providers.timeline import (
    AudioFormat,
    ConfigChange,
    FrameError,
    Marker,
    Modality,
    ProviderError,
    Speaker,
    Timeline,
    Track,
    Truncation,
    TurnStatus,
    UnknownEvent,
    Usage,
)

# A caller stream that goes quiet for longer than this (recording paused, a dropped leg) keeps its
# real position; shorter jitter is absorbed so caller audio stays contiguous.
CALLER_SLACK_MS: Final = 250.0


@dataclass
class ChunkState:
    track: Track
    format: AudioFormat
    byte_offset: int
    byte_length: int
    start_ms: float
    duration_ms: float
    seq: int
    turn_id: str | None
    audio_ms: float  # position in the track's own audio (VAD offsets and queue marks use it)
    heard_bytes: int
    dropped: bool = False  # never entered the playback queue
    index: int = -1  # place in ``Builder.chunks``


@dataclass
class TurnState:
    speaker: Speaker
    turn_id: str
    first_seq: int
    start_ms: float
    end_ms: float
    generated: list[str] = field(default_factory=list)
    transcript: str | None = None
    partial: str = ""
    heard_text: str | None = None
    status: TurnStatus = "in_progress"  # set explicitly only for completed / failed
    cut: bool = False  # playback was cut before the end of the generated audio
    cancelled: bool = False  # generation itself was cancelled (barge-in before it finished)
    generation_done: bool = False
    response_id: str | None = None
    cut_ms: float | None = None  # explicit heard position when no audio tells us
    vad_start_ms: float | None = None
    vad_end_ms: float | None = None
    # The provider's own clock (OpenAI VAD ``audio_start_ms``/``audio_end_ms``: ms into the
    # input audio stream), used when the record holds no caller audio to place them (WebRTC).
    clock_start_ms: float | None = None
    clock_end_ms: float | None = None
    modality: Modality = "audio"


@dataclass
class Playback:
    """Agent playback reported by the provider (OpenAI WebRTC ``output_audio_buffer.*``), by
    response: when the audio started to play and when it stopped or was cleared."""

    started_ms: float | None = None
    ended_ms: float | None = None


@dataclass
class ToolState:
    call_id: str
    name: str
    arguments: str
    started_ms: float
    seq: int
    result: str | None = None
    is_error: bool = False
    ended_ms: float | None = None
    cancelled: bool = False
    turn_id: str | None = None


class Builder:
    def __init__(self) -> None:
        self.seq = 0
        self.now_ms = 0.0
        self.provider = ""
        self.bridged = False  # a phone leg carries the audio; model legs give text and tools
        self.in_format: AudioFormat = PCM24K
        self.out_format: AudioFormat = PCM24K
        self.chunks: list[ChunkState] = []
        # What freezing reads, kept up to date as chunks arrive or are cut, so freezing a live
        # session again is not O(chunks) work (finalize.py).
        self.frozen = finalize.Frozen()
        self.caller_chunks: list[ChunkState] = []
        self.caller_ends: list[float] = []  # each caller chunk's end in caller audio (sorted)
        self.turns: dict[str, TurnState] = {}
        self.tools: dict[str, ToolState] = {}
        self.truncations: list[Truncation] = []
        self.configs: list[ConfigChange] = []
        self.provider_errors: list[ProviderError] = []
        self.usage: list[Usage] = []
        self.unknown: list[UnknownEvent] = []
        self.frame_errors: list[FrameError] = []
        self.markers: list[Marker] = []
        self.providers: list[str] = []
        self.end_ms = 0.0
        self.caller_bytes = 0
        self.caller_audio_ms = 0.0
        self.caller_end_ms: float | None = None
        self.agent_bytes = 0
        self.agent_audio_ms = 0.0
        self.play_end_ms = 0.0
        self.closed: set[str] = set()  # agent turns whose later audio is never played
        self.current_agent: str | None = None  # turn the next agent audio belongs to
        self.current_user: str | None = None
        # Latest session time consistent with every provider clock reading: no event arrives
        # before the moment of audio it describes, so arrival - audio_ms bounds the clock's zero.
        self.clock_zero_ms: float | None = None
        self.playback: dict[str, Playback] = {}  # by response id
        self.state: dict[str, object] = {}  # per-provider scratch (counters, pending marks)
        self._ids = itertools.count(1)

    # -- envelope bookkeeping ---------------------------------------------------------------
    def at(self, seq: int, mono_ns: int, provider: str) -> None:
        self.seq = seq
        self.now_ms = mono_ns / 1e6
        self.end_ms = max(self.end_ms, self.now_ms)
        if provider not in self.providers:
            self.providers.append(provider)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    def unknown_event(self, type_: str) -> None:
        self.unknown.append(UnknownEvent(self.now_ms, self.seq, self.provider, type_))

    def marker(self, kind: str, detail: str | None = None) -> None:
        self.markers.append(Marker(self.now_ms, self.seq, kind, detail))

    # -- turns and tools --------------------------------------------------------------------
    def turn(self, speaker: Speaker, turn_id: str) -> TurnState:
        found = self.turns.get(turn_id)
        if found is None:
            found = TurnState(speaker, turn_id, self.seq, self.now_ms, self.now_ms)
            self.turns[turn_id] = found
        found.end_ms = max(found.end_ms, self.now_ms)
        return found

    def tool(self, call_id: str, name: str = "", turn_id: str | None = None) -> ToolState:
        found = self.tools.get(call_id)
        if found is None:
            found = ToolState(call_id, name, "", self.now_ms, self.seq, turn_id=turn_id)
            self.tools[call_id] = found
        if name and not found.name:
            found.name = name
        if turn_id and not found.turn_id:
            found.turn_id = turn_id
        return found

    def tool_result(self, call_id: str, result: str, is_error: bool = False) -> None:
        state = self.tool(call_id)
        state.result, state.is_error, state.ended_ms = result, is_error, self.now_ms

    # -- caller audio ------------------------------------------------------------------------
    def caller_audio(self, nbytes: int, fmt: AudioFormat, turn_id: str | None = None) -> None:
        duration = nbytes / fmt.bytes_per_ms
        end = self.caller_end_ms
        start = self.now_ms if end is None or self.now_ms > end + CALLER_SLACK_MS else end
        chunk = ChunkState("caller", fmt, self.caller_bytes, nbytes, start, duration, self.seq,
                           turn_id, self.caller_audio_ms, nbytes, index=len(self.chunks))
        self.chunks.append(chunk)
        self.caller_chunks.append(chunk)
        self.caller_ends.append(chunk.audio_ms + chunk.duration_ms)
        self.caller_bytes += nbytes
        self.caller_audio_ms += duration
        self.caller_end_ms = start + duration

    def caller_time(self, audio_ms: float) -> float:
        """Timeline position of an offset into all caller audio (OpenAI VAD ``audio_*_ms``)."""
        i = bisect.bisect_right(self.caller_ends, audio_ms)  # the first chunk ending after it
        if i < len(self.caller_chunks):
            c = self.caller_chunks[i]
            return c.start_ms + max(0.0, audio_ms - c.audio_ms)
        if not self.caller_chunks:
            return self.now_ms
        last = self.caller_chunks[-1]
        return last.start_ms + last.duration_ms + (audio_ms - last.audio_ms - last.duration_ms)

    def provider_clock(self, audio_ms: float) -> float:
        """Record a reading of the provider's input-audio clock taken now; returns it."""
        zero = self.now_ms - audio_ms
        self.clock_zero_ms = zero if self.clock_zero_ms is None else min(self.clock_zero_ms, zero)
        return audio_ms

    # -- agent audio and playback ------------------------------------------------------------
    def agent_audio(self, nbytes: int, fmt: AudioFormat, turn_id: str | None,
                    dropped: bool | None = None) -> None:
        """Queue agent audio. ``dropped`` (default: its turn was already cut) never plays."""
        duration = nbytes / fmt.bytes_per_ms
        if dropped is None:
            dropped = turn_id is not None and turn_id in self.closed
        start = self.play_end_ms if dropped else max(self.play_end_ms, self.now_ms)
        chunk = ChunkState("agent", fmt, self.agent_bytes, nbytes, start, duration, self.seq,
                           turn_id, self.agent_audio_ms, 0 if dropped else nbytes, dropped,
                           len(self.chunks))
        self.chunks.append(chunk)
        if turn_id is not None:
            self.frozen.agent_chunk(chunk)
        self.agent_bytes += nbytes
        self.agent_audio_ms += duration
        if not dropped:
            self.play_end_ms = start + duration

    def agent_audio_ms_at(self, at_ms: float) -> float:
        """Queue position (agent audio ms) that playback had reached at ``at_ms``."""
        reached = 0.0
        for c in self.chunks:
            if c.track == "agent" and not c.dropped and c.start_ms < at_ms:
                reached = c.audio_ms + min(c.duration_ms, at_ms - c.start_ms)
        return reached

    def cut_queue(self, audio_ms: float, source: str) -> list[str]:
        """Everything queued past ``audio_ms`` of agent audio was not heard; the queue empties."""
        affected: list[str] = []
        for c in self.chunks:
            if c.track != "agent" or c.dropped or c.audio_ms + c.duration_ms <= audio_ms:
                continue
            keep_ms = max(0.0, audio_ms - c.audio_ms)
            self._hear(c, _bytes_for(keep_ms, c.format))
            if c.turn_id and c.turn_id not in affected:
                affected.append(c.turn_id)
        self.play_end_ms = min(self.play_end_ms, self.now_ms)
        for turn_id in affected:
            self.closed.add(turn_id)
            self._record_cut(turn_id, None, source)
        return affected

    def cut_now(self, source: str) -> list[str]:
        """Playback stopped at the current frame's time (Gemini ``interrupted``, ElevenLabs)."""
        return self.cut_queue(self.agent_audio_ms_at(self.now_ms), source)

    def cut_turn(self, turn_id: str, heard_ms: float, source: str) -> None:
        """The player says this turn was heard for ``heard_ms`` (OpenAI ``audio_end_ms``)."""
        done = 0.0
        first_start: float | None = None
        for c in self.frozen.turn_chunks(turn_id):
            first_start = c.start_ms if first_start is None else first_start
            keep_ms = min(c.duration_ms, max(0.0, heard_ms - done))
            self._hear(c, _bytes_for(keep_ms, c.format))
            done += c.duration_ms
        if first_start is not None and done > heard_ms:
            self.play_end_ms = min(self.play_end_ms, max(first_start + heard_ms, self.now_ms))
        self.closed.add(turn_id)
        self._record_cut(turn_id, heard_ms, source)

    def _hear(self, c: ChunkState, heard_bytes: int) -> None:
        """At most ``heard_bytes`` of the chunk were played."""
        if heard_bytes < c.heard_bytes:
            c.heard_bytes = heard_bytes
            self.frozen.cut(c)

    def _record_cut(self, turn_id: str, heard_ms: float | None, source: str) -> None:
        self.truncations.append(Truncation(turn_id, heard_ms, self.now_ms, self.seq, source))
        state = self.turns.get(turn_id)
        if state is not None:
            if heard_ms is not None:
                state.cut_ms = heard_ms if state.cut_ms is None else min(state.cut_ms, heard_ms)
            state.cut = True

    def freeze(self) -> Timeline:
        return finalize.freeze(self)


def _bytes_for(ms: float, fmt: AudioFormat) -> int:
    """Whole sample frames within ``ms`` (a cut never splits a sample)."""
    frames = int(ms * fmt.sample_rate / 1000 + 1e-6)
    return max(0, frames * fmt.frame_bytes)
