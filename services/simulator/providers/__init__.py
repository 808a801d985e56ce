"""One frame builder per simulated provider; the name is the ``voxledger simulate --provider``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Final, Literal

from schemas.envelope import Provider
from schemas.system_events import AudioFormat
from services.simulator.frames import FrameList
from services.simulator.providers import custom, elevenlabs, gemini, openai, twilio
from services.simulator.script import Script


@dataclass(frozen=True)
class Profile:
    provider: Provider  # the session's provider in its envelopes
    model: str
    build: Callable[[Script], FrameList]
    input_format: Callable[[Script], AudioFormat]
    output_format: Callable[[Script], AudioFormat]


def _fixed(codec: Literal["pcm16", "g711_ulaw"], rate: int) -> Callable[[Script], AudioFormat]:
    fmt = AudioFormat(codec=codec, sample_rate=rate)
    return lambda _script: fmt


PROFILES: Final[dict[str, Profile]] = {
    "openai": Profile(Provider.OPENAI_REALTIME, "gpt-realtime", partial(openai.build, ga=True),
                      _fixed("pcm16", 24000), _fixed("pcm16", 24000)),
    "openai-beta": Profile(Provider.OPENAI_REALTIME_BETA, "gpt-4o-realtime-preview",
                           partial(openai.build, ga=False),
                           _fixed("pcm16", 24000), _fixed("pcm16", 24000)),
    "gemini": Profile(Provider.GEMINI_LIVE, gemini.MODEL, gemini.build,
                      _fixed("pcm16", gemini.IN_RATE), _fixed("pcm16", gemini.OUT_RATE)),
    "elevenlabs": Profile(Provider.ELEVENLABS, "elevenlabs-agent", elevenlabs.build,
                          _fixed("pcm16", elevenlabs.IN_RATE),
                          lambda s: AudioFormat(codec="pcm16",
                                                sample_rate=elevenlabs.output_rate(s))),
    "twilio": Profile(Provider.TWILIO_MEDIA, "gpt-realtime", twilio.build,
                      _fixed("g711_ulaw", 8000), _fixed("g711_ulaw", 8000)),
    "custom": Profile(Provider.CUSTOM, "asr+llm+tts", custom.build,
                      _fixed("pcm16", custom.IN_RATE), _fixed("pcm16", custom.OUT_RATE)),
}
