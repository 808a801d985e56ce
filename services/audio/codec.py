"""Decoding wire audio to float samples, and the WAV framing of stored recordings (pure).

G.711 is decoded with numpy lookup tables because ``audioop`` left the standard library in
Python 3.13. Tables follow ITU-T G.711 (Sun ``g711.c``, which ``audioop`` used), so μ-law bytes
decode to exactly the values ``audioop.ulaw2lin`` gave.
"""

from __future__ import annotations

import struct
from typing import Final

import numpy as np
import numpy.typing as npt

from services.providers.timeline import AudioFormat

Floats = npt.NDArray[np.float32]
Int16s = npt.NDArray[np.int16]

_SCALE: Final = 1.0 / 32768.0


def _ulaw_table() -> Int16s:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07)
    return np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84).astype(np.int16)


def _alaw_table() -> Int16s:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << np.maximum(seg - 1, 0)))
    return np.where(a & 0x80, t, -t).astype(np.int16)


ULAW: Final = _ulaw_table()
ALAW: Final = _alaw_table()


def to_int16(data: bytes, fmt: AudioFormat) -> Int16s:
    """Wire bytes → mono int16 at ``fmt.sample_rate``. Stereo input is averaged to mono."""
    if fmt.codec == "pcm16":
        usable = len(data) - len(data) % 2
        samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)
    else:
        raw = np.frombuffer(data, dtype=np.uint8)
        samples = (ULAW if fmt.codec == "g711_ulaw" else ALAW)[raw]
    if fmt.channels == 2:
        usable = len(samples) - len(samples) % 2
        pairs = samples[:usable].reshape(-1, 2).astype(np.int32)
        samples = (pairs.sum(axis=1) // 2).astype(np.int16)
    return samples


def to_float(data: bytes, fmt: AudioFormat) -> Floats:
    return (to_int16(data, fmt).astype(np.float32) * np.float32(_SCALE)).astype(np.float32)


def to_pcm16(samples: Floats) -> Int16s:
    """Float mix → int16 with clipping (two overlapping voices may exceed full scale)."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


# Streamed WAV: the sizes are unknown while the call runs and the first part is already stored,
# so RIFF and data sizes carry 0xFFFFFFFF ("until end of file", as streaming writers do);
# `voxledger audio export` writes exact sizes.
STREAMING_SIZE: Final = 0xFFFFFFFF
WAV_HEADER_BYTES: Final = 44


def wav_header(rate: int, channels: int, data_bytes: int = STREAMING_SIZE) -> bytes:
    riff = STREAMING_SIZE if data_bytes == STREAMING_SIZE else 36 + data_bytes
    block = 2 * channels
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
            + b"data" + struct.pack("<I", data_bytes))


def parse_wav_header(header: bytes) -> tuple[int, int]:
    """(rate, channels) of a stored recording's header; ValueError if it is not ours."""
    if len(header) < WAV_HEADER_BYTES or header[:4] != b"RIFF" or header[8:16] != b"WAVEfmt ":
        raise ValueError("not a PCM16 WAV header")
    _, fmt_tag, channels, rate, _, _, bits = struct.unpack("<IHHIIHH", header[16:36])
    if fmt_tag != 1 or bits != 16 or header[36:40] != b"data":
        raise ValueError("not a PCM16 WAV header")
    return rate, channels
