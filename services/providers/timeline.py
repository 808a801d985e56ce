"""The session timeline: what a recorded voice session *means*, whatever the provider.

Every projection (audio as heard, transcripts, redaction) reads this model instead of raw frames.
Positions are milliseconds on the session timeline, whose origin is the recorder's ``mono_ns`` 0.
Caller audio is placed by samples appended; agent audio by playback position, so an agent chunk
knows how many of its bytes were actually heard (``heard_bytes``) — generated is not heard.

Nothing here carries frame content except what a transcript needs (texts, tool arguments):
interpretation errors hold a ``seq`` and a reason code only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Track = Literal["caller", "agent"]
Speaker = Literal["caller", "agent"]
Codec = Literal["pcm16", "g711_ulaw", "g711_alaw"]
TurnStatus = Literal["in_progress", "completed", "interrupted", "truncated", "failed"]
# How a turn entered the conversation: spoken (audio) or typed by the app (OpenAI ``input_text``).
Modality = Literal["audio", "text"]


@dataclass(frozen=True)
class AudioFormat:
    codec: Codec = "pcm16"
    sample_rate: int = 24000
    channels: int = 1

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample across all channels: the smallest unit a cut may split at."""
        return (2 if self.codec == "pcm16" else 1) * self.channels

    @property
    def bytes_per_ms(self) -> float:
        return self.frame_bytes * self.sample_rate / 1000.0


@dataclass(frozen=True)
class AudioChunk:
    """One audio frame. ``byte_offset`` is its place in the track's concatenated bytes."""

    track: Track
    format: AudioFormat
    byte_offset: int
    byte_length: int
    start_ms: float
    duration_ms: float
    seq: int
    turn_id: str | None = None
    heard_bytes: int = 0  # caller audio: all of it; agent audio: the played prefix

    @property
    def heard_ms(self) -> float:
        return self.heard_bytes / self.format.bytes_per_ms if self.byte_length else 0.0


@dataclass(frozen=True)
class Turn:
    speaker: Speaker
    turn_id: str
    status: TurnStatus
    start_ms: float
    end_ms: float
    generated_text: str = ""  # assembled from deltas, as the model produced it
    transcript: str | None = None  # the final transcript the provider sent, if any
    heard_text: str | None = None
    heard_text_approximate: bool = False
    generated_ms: float | None = None  # length of the audio produced for the turn
    heard_ms: float | None = None  # agent turns: how much of it the caller heard
    response_id: str | None = None
    first_seq: int = 0
    modality: Modality = "audio"


@dataclass(frozen=True)
class Truncation:
    """A signal that playback was cut: which turn, where, and who said so."""

    turn_id: str | None
    heard_ms: float | None
    at_ms: float
    seq: int
    source: str  # e.g. "openai.truncate", "twilio.clear", "gemini.interrupted"


@dataclass(frozen=True)
class ToolCall:
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


@dataclass(frozen=True)
class ConfigChange:
    at_ms: float
    seq: int
    source: str
    input_format: AudioFormat | None = None
    output_format: AudioFormat | None = None
    voice: str | None = None
    model: str | None = None
    tools: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ProviderError:
    """An error the provider reported in-band (codes only; messages may echo user input)."""

    at_ms: float
    seq: int
    code: str | None
    kind: str | None


@dataclass(frozen=True)
class Usage:
    at_ms: float
    seq: int
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None


@dataclass(frozen=True)
class UnknownEvent:
    at_ms: float
    seq: int
    provider: str
    type: str


@dataclass(frozen=True)
class FrameError:
    """A frame that could not be interpreted. The reason names a field or rule, never content."""

    seq: int
    reason: str


@dataclass(frozen=True)
class Marker:
    """Session-level facts: consent changes, recording paused/resumed, DTMF, end of session."""

    at_ms: float
    seq: int
    kind: str
    detail: str | None = None


@dataclass(frozen=True)
class Timeline:
    chunks: tuple[AudioChunk, ...] = ()
    turns: tuple[Turn, ...] = ()
    truncations: tuple[Truncation, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    configs: tuple[ConfigChange, ...] = ()
    provider_errors: tuple[ProviderError, ...] = ()
    usage: tuple[Usage, ...] = ()
    unknown: tuple[UnknownEvent, ...] = ()
    frame_errors: tuple[FrameError, ...] = ()
    markers: tuple[Marker, ...] = ()
    providers: tuple[str, ...] = ()
    bridged: bool = False
    end_ms: float = 0.0

    def track(self, track: Track) -> tuple[AudioChunk, ...]:
        return tuple(c for c in self.chunks if c.track == track)

    def turn(self, turn_id: str) -> Turn | None:
        return next((t for t in self.turns if t.turn_id == turn_id), None)
