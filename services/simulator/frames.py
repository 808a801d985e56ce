"""What provider builders produce: timed frames, plus helpers they share.

A builder turns a ``Script`` into ``Frame``s: the provider's own JSON frames, each with the time
it crosses the gateway and its direction. ``run.py`` publishes them in time order through the
recorder SDK. Pure: no I/O.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from schemas.envelope import Provider
from services.simulator import audio
from services.simulator.audio import Samples
from services.simulator.script import Script, Turn

Direction = Literal["client", "server", "system"]
Codec = Literal["pcm16", "g711_ulaw"]

# Realtime models generate audio faster than it plays; 4x is typical of OpenAI and Gemini.
GENERATION_SPEEDUP: Final = 4


@dataclass(frozen=True)
class Frame:
    at_ms: float
    direction: Direction
    payload: dict[str, Any]
    provider: Provider | None = None  # set on the model leg of a bridged (Twilio) session
    type_: str | None = None  # system events only


@dataclass
class FrameList:
    """Collects frames; ``sorted()`` orders by time, keeping insertion order for ties."""

    items: list[tuple[float, int, Frame]] = field(default_factory=list)

    def add(self, at_ms: float, direction: Direction, payload: dict[str, Any],
            provider: Provider | None = None) -> None:
        frame = Frame(at_ms, direction, payload, provider)
        self.items.append((at_ms, len(self.items), frame))

    def add_frame(self, frame: Frame) -> None:
        self.items.append((frame.at_ms, len(self.items), frame))

    def sorted(self) -> list[Frame]:
        return [f for _, _, f in sorted(self.items, key=lambda x: (x[0], x[1]))]


class Ids:
    """Provider-looking ids (``item_…``, ``resp_…``), deterministic for a seed."""

    _ALPHABET: Final = string.ascii_letters + string.digits

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)

    def __call__(self, prefix: str, length: int = 21) -> str:
        return prefix + "".join(self.rng.choice(self._ALPHABET) for _ in range(length))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def chunks(data: bytes, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, piece) over ``data``; the last piece may be shorter."""
    for offset in range(0, len(data), size):
        yield offset, data[offset:offset + size]


def caller_track(script: Script, rate: int) -> Samples:
    """The caller's microphone for the whole session: line noise, speech during caller turns."""
    import numpy as np

    track = audio.line_noise(script.duration_ms, rate, f"{script.seed}:noise")
    for turn in script.turns:
        if turn.speaker != "caller":
            continue
        speech = audio.speech(turn.duration_ms, rate, "caller", f"{script.seed}:{turn.index}",
                              turn.marker_ms)
        start = audio.samples_for(turn.start_ms, rate)
        track[start:start + len(speech)] = speech[: len(track) - start]
    return np.asarray(track, dtype=np.int16)


def agent_audio(script: Script, turn: Turn, rate: int, codec: Codec) -> bytes:
    """All audio generated for an agent turn, heard or not, encoded."""
    samples = audio.speech(turn.duration_ms, rate, "agent", f"{script.seed}:{turn.index}",
                           turn.marker_ms)
    return audio.encode(samples, codec)


def generation_times(turn: Turn, pieces: int) -> list[float]:
    """When each of ``pieces`` generated chunks of an agent turn reaches the gateway.

    Completed generation runs at GENERATION_SPEEDUP from ``start_ms``. A cancelled generation
    delivered everything it made before the barge-in, spread over ``[start, start + heard]``.
    """
    if pieces == 0:
        return []
    if turn.status == "interrupted":
        span = turn.heard_ms or 0
        return [turn.start_ms + span * i / pieces for i in range(pieces)]
    step = turn.duration_ms / GENERATION_SPEEDUP / pieces
    return [turn.start_ms + step * i for i in range(pieces)]


def generation_end(turn: Turn) -> float:
    if turn.status == "interrupted":
        return float(turn.start_ms + (turn.heard_ms or 0))
    return turn.start_ms + turn.duration_ms / GENERATION_SPEEDUP


def cut_ms(turn: Turn) -> float:
    """Where playback of an agent turn stopped on the session timeline."""
    return float(turn.start_ms + (turn.heard_ms if turn.heard_ms is not None else turn.duration_ms))


def text_pieces(text: str, count: int) -> list[str]:
    """Split text into ``count`` consecutive pieces (on word boundaries) that join back to it."""
    words = text.split(" ")
    count = max(1, min(count, len(words)))
    size = -(-len(words) // count)
    parts = [" ".join(words[i:i + size]) for i in range(0, len(words), size)]
    return [p if i == 0 else " " + p for i, p in enumerate(parts)]


def heard_text(turn: Turn) -> str:
    """The words the caller heard, proportional to the heard share of the audio (an estimate)."""
    if turn.heard_ms is None or turn.heard_ms >= turn.duration_ms:
        return turn.text
    words = turn.text.split(" ")
    keep = int(len(words) * turn.heard_ms / max(1, turn.duration_ms))
    return " ".join(words[:keep])


def system_frames(script: Script) -> list[Frame]:
    out = []
    for mark in script.system_events:
        payload: dict[str, Any] = {"scope": mark.scope} if mark.scope else {}
        if mark.type == "recording.paused":
            payload = {"reason": "payment"}
        out.append(Frame(mark.at_ms, "system", payload, None, mark.type))
    return out
