"""Waveform peaks of a stereo recording, one lane per channel (pure: WAV bytes in, numbers out).

The console draws the caller (left) and the agent (right) as two lanes. Peaks are the largest
absolute sample per bin, scaled to 0..100: an amplitude outline for finding speech and silence,
at a resolution (``MIN_BIN_MS``, at most ``MAX_BINS`` bins) far too coarse to carry words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from services.audio.codec import WAV_HEADER_BYTES, parse_wav_header

MAX_BINS: Final = 1200
MIN_BIN_MS: Final = 50


@dataclass(frozen=True)
class Waveform:
    duration_ms: int
    bin_ms: float
    caller: list[int]
    agent: list[int]


def peaks(wav: bytes, max_bins: int = MAX_BINS) -> Waveform:
    """Peaks per lane of a PCM16 WAV as ``voxledger`` stores and the API serves it (a mono file
    gives the same lane twice). ValueError when the bytes are not such a WAV."""
    rate, channels = parse_wav_header(wav[:WAV_HEADER_BYTES])
    body = wav[WAV_HEADER_BYTES:]
    usable = len(body) - len(body) % (2 * channels)
    frames = np.frombuffer(body[:usable], dtype="<i2").reshape(-1, channels)
    n = frames.shape[0]
    duration_ms = round(n * 1000 / rate)
    if n == 0:
        return Waveform(0, float(MIN_BIN_MS), [], [])
    bins = max(1, min(max_bins, duration_ms // MIN_BIN_MS or 1))
    edges = np.linspace(0, n, bins + 1).astype(np.int64)
    lanes = []
    for ch in (0, min(1, channels - 1)):
        mag = np.abs(frames[:, ch].astype(np.int32))
        # reduceat needs non-empty bins: edges are strictly increasing when n >= bins.
        starts = edges[:-1] if n >= bins else np.arange(n)
        top = np.maximum.reduceat(mag, starts)
        lanes.append([int(v) for v in np.minimum(100, np.ceil(top * 100 / 32768))])
    return Waveform(duration_ms, duration_ms / len(lanes[0]), lanes[0], lanes[1])
