"""Synthetic audio: exact durations, marker tones where the script says, G.711 μ-law bytes."""

from __future__ import annotations

import numpy as np
import pytest

from services.simulator import audio


@pytest.mark.parametrize(("ms", "rate"), [(1, 8000), (1234, 16000), (987, 24000), (600, 8000)])
def test_duration_is_exact(ms: int, rate: int) -> None:
    samples = audio.speech(ms, rate, "caller", "seed", marker_ms=100)
    assert len(samples) == ms * rate // 1000
    assert len(audio.pcm16le(samples)) == ms * rate // 1000 * 2
    assert len(audio.ulaw_encode(samples)) == ms * rate // 1000


def test_same_seed_same_samples() -> None:
    a = audio.speech(500, 24000, "agent", "s")
    assert np.array_equal(a, audio.speech(500, 24000, "agent", "s"))
    assert not np.array_equal(a, audio.speech(500, 24000, "agent", "t"))


@pytest.mark.parametrize(("speaker", "rate"), [("caller", 8000), ("agent", 8000),
                                               ("caller", 24000), ("agent", 16000)])
def test_marker_tone_at_offset(speaker: audio.Speaker, rate: int) -> None:
    samples = audio.speech(1000, rate, speaker, "m", marker_ms=300)
    start, length = 300 * rate // 1000, audio.MARKER_MS * rate // 1000
    window = samples[start:start + length].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(window))
    peak_hz = np.argmax(spectrum) * rate / length
    assert peak_hz == pytest.approx(audio.MARKER_HZ[speaker], abs=rate / length)


def test_speech_is_not_silence() -> None:
    samples = audio.speech(2000, 16000, "caller", "loud")
    assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 500


@pytest.mark.parametrize(("sample", "byte"), [
    (0, 0xFF), (-1, 0x7E), (1, 0xFF), (32767, 0x80), (-32768, 0x00), (100, 0xF2),
    (-100, 0x72), (1000, 0xCE), (-5000, 0x2B),
])
def test_ulaw_known_values(sample: int, byte: int) -> None:
    # reference bytes from CPython 3.11 audioop.lin2ulaw (Sun g711.c)
    assert audio.ulaw_encode(np.array([sample], dtype=np.int16)) == bytes([byte])


def test_ulaw_decode_inverts_encode_within_quantization() -> None:
    x = np.arange(-32768, 32768, 7, dtype=np.int16)
    y = audio.ulaw_decode(audio.ulaw_encode(x)).astype(np.int32)
    err = np.abs(y - x.astype(np.int32))
    assert np.all(err <= np.maximum(4, np.abs(x.astype(np.int32)) // 16 + 8))
    assert audio.ulaw_decode(bytes([0xFF, 0x7F, 0x80, 0x00])).tolist() == [0, 0, 32124, -32124]


def test_odd_durations_are_refused() -> None:
    with pytest.raises(ValueError):
        audio.samples_for(1, 22050)
