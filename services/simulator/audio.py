"""Synthetic speech-like audio and the codecs the providers use (PCM16 LE, G.711 μ-law).

Speech-like, not speech: a harmonic series on a drifting pitch, shaped by a syllable-rate envelope
(~4 Hz) with a little breath noise, so VAD-style energy detectors and level meters behave as on a
real call. Every turn carries a marker tone (1 kHz for the caller, 2 kHz for the agent, 50 ms) at
``Turn.marker_ms`` from its start, so alignment of the recorded tracks can be checked to the sample.

G.711 is implemented with numpy because ``audioop`` left the standard library in Python 3.13.
"""

from __future__ import annotations

import random
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]
Speaker = Literal["caller", "agent"]

MARKER_HZ: Final[dict[str, int]] = {"caller": 1000, "agent": 2000}
MARKER_MS: Final = 50
_PITCH_HZ: Final[dict[str, tuple[float, float]]] = {"caller": (110.0, 150.0),
                                                    "agent": (180.0, 230.0)}
_NOISE_FLOOR: Final = 8  # line noise between turns (int16 units): silence is never all zeros


def samples_for(ms: int, rate: int) -> int:
    """Exact sample count of ``ms`` at ``rate``; every rate we use divides into whole ms."""
    if (ms * rate) % 1000:
        raise ValueError(f"{ms} ms is not a whole number of samples at {rate} Hz")
    return ms * rate // 1000


def speech(duration_ms: int, rate: int, speaker: Speaker, seed: str,
           marker_ms: int | None = None) -> Samples:
    """``duration_ms`` of speech-like audio; a marker tone at ``marker_ms`` if it fits."""
    n = samples_for(duration_ms, rate)
    rng = np.random.default_rng(random.Random(seed).getrandbits(64))
    t = np.arange(n, dtype=np.float64) / rate
    lo, hi = _PITCH_HZ[speaker]
    f0 = lo + (hi - lo) * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t))
    phase = 2 * np.pi * np.cumsum(f0) / rate
    nyquist = rate / 2
    voiced = np.zeros(n)
    for k in range(1, 16):
        if k * hi >= nyquist * 0.9:
            break
        voiced += np.sin(k * phase) / k
    syllable_hz = rng.uniform(3.5, 5.0)
    envelope = np.clip(np.sin(2 * np.pi * syllable_hz * t + rng.uniform(0, np.pi)), 0, None) ** 0.7
    noise = rng.normal(0.0, 0.05, n)
    signal = (voiced * 0.5 + noise) * envelope * 9000.0
    if marker_ms is not None:
        start = samples_for(marker_ms, rate)
        length = samples_for(MARKER_MS, rate)
        if start + length <= n:
            tone_t = np.arange(length) / rate
            signal[start:start + length] = 12000.0 * np.sin(2 * np.pi * MARKER_HZ[speaker] * tone_t)
    return np.clip(np.round(signal), -32768, 32767).astype(np.int16)


def line_noise(duration_ms: int, rate: int, seed: str) -> Samples:
    rng = np.random.default_rng(random.Random(seed).getrandbits(64))
    n = samples_for(duration_ms, rate)
    return rng.integers(-_NOISE_FLOOR, _NOISE_FLOOR + 1, n).astype(np.int16)


def pcm16le(samples: Samples) -> bytes:
    return samples.astype("<i2").tobytes()


_ULAW_BIAS: Final = 0x84
# Segment end points of the 14-bit companding curve (Sun g711.c, which CPython's audioop used).
_ULAW_SEG_END: Final = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def ulaw_encode(samples: Samples) -> bytes:
    """ITU-T G.711 μ-law, byte-identical to ``audioop.lin2ulaw`` (Sun g711.c ``linear2ulaw``)."""
    x = samples.astype(np.int32) >> 2  # G.711 works on 14-bit linear samples
    mask = np.where(x < 0, 0x7F, 0xFF)
    x = np.minimum(np.abs(x), 8159) + 0x21
    seg = np.searchsorted(_ULAW_SEG_END, x, side="left").astype(np.int32)
    uval = np.where(seg >= 8, 0x7F, (seg << 4) | ((x >> (np.minimum(seg, 7) + 1)) & 0x0F))
    return (uval ^ mask).astype(np.uint8).tobytes()


def ulaw_decode(data: bytes) -> Samples:
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa << 3) + _ULAW_BIAS) << exponent
    value = np.where(u & 0x80, _ULAW_BIAS - magnitude, magnitude - _ULAW_BIAS)
    return value.astype(np.int16)


def encode(samples: Samples, codec: Literal["pcm16", "g711_ulaw"]) -> bytes:
    return pcm16le(samples) if codec == "pcm16" else ulaw_encode(samples)


def bytes_per_ms(codec: Literal["pcm16", "g711_ulaw"], rate: int) -> int:
    width = 2 if codec == "pcm16" else 1
    return width * rate // 1000
