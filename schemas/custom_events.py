"""Voxledger's generic event vocabulary for custom voice pipelines (provider ``custom``).

Pipelines built from separate ASR, LLM and TTS stages (Pipecat, LiveKit Agents, hand-built) have
no wire format of their own. To record one, the gateway sends the recorder SDK these JSON frames;
every frame is a flat JSON object discriminated by ``type``. Vocabulary version 1.

Caller side (the gateway feeds these into the pipeline; record them as ``client``):

- ``audio.input`` {``audio``, ``codec``, ``sample_rate``, ``channels``, ``turn_id``?}: a chunk of
  caller audio, base64.
- ``playback.started`` {``turn_id``}: the agent turn's audio began playing to the caller.
- ``playback.stopped`` {``turn_id``, ``heard_ms``}: playback finished normally after ``heard_ms``.
- ``playback.truncated`` {``turn_id``, ``heard_ms``}: playback was cut (barge-in) at ``heard_ms``;
  the rest of the turn's audio was generated but never heard.
- ``tool.result`` {``call_id``, ``output``, ``is_error``}: the tool's result fed back to the LLM.

Pipeline side (the pipeline produces these; record them as ``server``):

- ``audio.output`` {``audio``, ``codec``, ``sample_rate``, ``channels``, ``turn_id``?}: a chunk of
  agent (TTS) audio as generated.
- ``transcript.user.partial`` / ``transcript.user.final`` {``text``, ``turn_id``}: interim ASR
  hypothesis (each replaces the previous one) and the final text of a caller turn.
- ``transcript.agent.partial`` / ``transcript.agent.final`` {``text``, ``turn_id``}: a delta of the
  agent's reply text (LLM stream) and the complete generated text of the agent turn.
- ``tool.call`` {``call_id``, ``name``, ``arguments`` (JSON text), ``turn_id``?}: the LLM asked
  for a tool.

Either side, optional: ``turn.started`` / ``turn.ended`` {``turn_id``, ``speaker``
(``user`` | ``agent``)}: explicit turn boundaries.

Conventions:

- ``codec`` is ``pcm16`` (signed 16-bit little-endian), ``g711_ulaw`` or ``g711_alaw``;
  ``sample_rate`` is in Hz; ``channels`` is 1 or 2. The format travels with every chunk, so it may
  change mid-session.
- ``heard_ms`` is the playback position within the agent turn's own audio (0 = nothing heard), the
  same base as OpenAI's ``audio_end_ms``. A turn heard in full ends with ``playback.stopped``.
- ``turn_id`` is an opaque id chosen by the pipeline (never PII) that ties audio, transcripts and
  playback of one turn together.
- Direction is a convention only; interpreters key on ``type``.

The audio type names ``audio.input`` / ``audio.output`` are routed to the ``audio`` subject kind by
``schemas.envelope``, so consumers that skip audio never see them.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

VOCABULARY_VERSION: Final = 1

Base64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]*={0,2}$")]
TurnId = Annotated[str, Field(min_length=1, max_length=128)]
Codec = Literal["pcm16", "g711_ulaw", "g711_alaw"]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Audio(_Event):
    audio: Base64
    codec: Codec = "pcm16"
    sample_rate: Annotated[int, Field(ge=8000, le=48000)] = 24000
    channels: Annotated[int, Field(ge=1, le=2)] = 1
    turn_id: TurnId | None = None


class AudioInput(_Audio):
    type: Literal["audio.input"] = "audio.input"


class AudioOutput(_Audio):
    type: Literal["audio.output"] = "audio.output"


class _Transcript(_Event):
    text: str
    turn_id: TurnId


class TranscriptUserPartial(_Transcript):
    type: Literal["transcript.user.partial"] = "transcript.user.partial"


class TranscriptUserFinal(_Transcript):
    type: Literal["transcript.user.final"] = "transcript.user.final"


class TranscriptAgentPartial(_Transcript):
    type: Literal["transcript.agent.partial"] = "transcript.agent.partial"


class TranscriptAgentFinal(_Transcript):
    type: Literal["transcript.agent.final"] = "transcript.agent.final"


class PlaybackStarted(_Event):
    type: Literal["playback.started"] = "playback.started"
    turn_id: TurnId


class PlaybackStopped(_Event):
    type: Literal["playback.stopped"] = "playback.stopped"
    turn_id: TurnId
    heard_ms: Annotated[int, Field(ge=0)]


class PlaybackTruncated(_Event):
    type: Literal["playback.truncated"] = "playback.truncated"
    turn_id: TurnId
    heard_ms: Annotated[int, Field(ge=0)]


class ToolCall(_Event):
    type: Literal["tool.call"] = "tool.call"
    call_id: Annotated[str, Field(min_length=1, max_length=128)]
    name: Annotated[str, Field(min_length=1, max_length=128)]
    arguments: str = "{}"  # JSON text, as LLM function-calling APIs produce it
    turn_id: TurnId | None = None


class ToolResult(_Event):
    type: Literal["tool.result"] = "tool.result"
    call_id: Annotated[str, Field(min_length=1, max_length=128)]
    output: str
    is_error: bool = False


class TurnStarted(_Event):
    type: Literal["turn.started"] = "turn.started"
    turn_id: TurnId
    speaker: Literal["user", "agent"]


class TurnEnded(_Event):
    type: Literal["turn.ended"] = "turn.ended"
    turn_id: TurnId
    speaker: Literal["user", "agent"]


CustomEvent = Annotated[
    AudioInput | AudioOutput
    | TranscriptUserPartial | TranscriptUserFinal
    | TranscriptAgentPartial | TranscriptAgentFinal
    | PlaybackStarted | PlaybackStopped | PlaybackTruncated
    | ToolCall | ToolResult
    | TurnStarted | TurnEnded,
    Field(discriminator="type"),
]

CUSTOM_EVENT_TYPES: Final[dict[str, type[_Event]]] = {
    "audio.input": AudioInput,
    "audio.output": AudioOutput,
    "transcript.user.partial": TranscriptUserPartial,
    "transcript.user.final": TranscriptUserFinal,
    "transcript.agent.partial": TranscriptAgentPartial,
    "transcript.agent.final": TranscriptAgentFinal,
    "playback.started": PlaybackStarted,
    "playback.stopped": PlaybackStopped,
    "playback.truncated": PlaybackTruncated,
    "tool.call": ToolCall,
    "tool.result": ToolResult,
    "turn.started": TurnStarted,
    "turn.ended": TurnEnded,
}

_ADAPTER: Final[TypeAdapter[CustomEvent]] = TypeAdapter(CustomEvent)


def parse_custom_event(frame: dict[str, Any]) -> CustomEvent:
    """Validate one custom frame; raises pydantic.ValidationError (unknown ``type`` included)."""
    return _ADAPTER.validate_python(frame)
