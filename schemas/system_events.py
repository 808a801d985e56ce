"""Payloads of the recorder's own ``system`` events, which frame every session.

Each is one small frozen model; the envelope ``type`` names which. Subject identifiers travel
only inside ``session.started`` and are encrypted by the ledger before they are stored.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsentScope(StrEnum):
    RECORDING = "recording"
    TRANSCRIPTION = "transcription"
    TRAINING = "training"


class ConsentState(StrEnum):
    GRANTED = "granted"
    DECLINED = "declined"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class AudioFormat(_Event):
    codec: Literal["pcm16", "g711_ulaw", "g711_alaw"] = "pcm16"
    sample_rate: Annotated[int, Field(ge=8000, le=48000)] = 24000
    channels: Annotated[int, Field(ge=1, le=2)] = 1


class SubjectIdentifiers(_Event):
    phone_e164: Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    customer_id: Annotated[str, Field(max_length=128)] | None = None


class SessionStarted(_Event):
    provider: str
    model: str | None = None
    agent: str | None = None
    input_format: AudioFormat = AudioFormat()
    output_format: AudioFormat = AudioFormat()
    jurisdiction: str | None = None
    retention_class: str = "standard"
    consent: dict[ConsentScope, ConsentState] = Field(default_factory=dict)
    subject: SubjectIdentifiers = SubjectIdentifiers()


class ConsentChanged(_Event):
    scope: ConsentScope
    note: str | None = None


class RecordingPaused(_Event):
    reason: str = "payment"


class RecordingResumed(_Event):
    pass


class SessionEnded(_Event):
    reason: str = "completed"
    last_seq: Annotated[int, Field(ge=0)]


class Gap(_Event):
    """Emitted by the recorder when frames could not be kept (memory and disk both full)."""

    first_seq: Annotated[int, Field(ge=0)]
    last_seq: Annotated[int, Field(ge=0)]
    reason: str


SYSTEM_EVENTS: Final[dict[str, type[_Event]]] = {
    "session.started": SessionStarted,
    "consent.granted": ConsentChanged,
    "consent.declined": ConsentChanged,
    "consent.revoked": ConsentChanged,
    "recording.paused": RecordingPaused,
    "recording.resumed": RecordingResumed,
    "session.ended": SessionEnded,
    "recorder.gap": Gap,
}


def parse_system_event(type_: str, payload: dict[str, object]) -> _Event:
    """Validate a system payload; raises KeyError for an unknown type, ValidationError if bad."""
    return SYSTEM_EVENTS[type_].model_validate(payload)
