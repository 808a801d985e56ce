"""Placing decoded audio on the output timeline and mixing it into recordings (pure, no I/O).

A *lane* is one source on the session timeline (caller, agent as heard, agent unheard). Pieces of
audio are fed to a lane in timeline order; a piece that continues the previous one (same format,
starting where it ended) goes through the same ``soxr`` stream, so resampling is seamless across
frames and its output is appended at the lane's cursor (no per-frame rounding jitter). Any other
piece flushes the stream and starts a new run at its own position.

``soxr.ResampleStream`` gives the same samples however the input is split (checked in the unit
tests), which is what lets the live consumer and the rebuild agree regardless of batching.

The :class:`Canvas` holds only the not-yet-emitted window of each lane: a one-hour call never sits
in memory, only the last few seconds do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import soxr

from services.audio.codec import Floats, sample_bytes, to_float, to_pcm16
from services.providers.timeline import AudioFormat

CONTIGUOUS_MS: Final = 0.5  # pieces closer than this to the previous end continue its run
GAP_MS: Final = 20.0  # shorter holes are frame jitter, not missing audio


def to_index(ms: float, rate: int) -> int:
    """Output sample index of a timeline position (the one rounding rule used everywhere)."""
    return round(ms * rate / 1000.0)


class Canvas:
    """Per-lane float buffers covering output samples ``[base, base + len)``."""

    def __init__(self, lanes: Sequence[str]) -> None:
        self.base = 0
        self._bufs: dict[str, Floats] = {name: np.zeros(0, np.float32) for name in lanes}
        self._mutes: list[tuple[int, int | None]] = []
        self.dropped_samples = 0  # audio placed before what was already emitted (should be 0)

    def add(self, lane: str, start: int, samples: Floats) -> None:
        if start < self.base:
            cut = min(len(samples), self.base - start)
            self.dropped_samples += cut
            samples, start = samples[cut:], self.base
        if not len(samples):
            return
        buf = self._bufs[lane]
        end = start - self.base + len(samples)
        if end > len(buf):
            grown = np.zeros(max(end, 2 * len(buf)), np.float32)
            grown[:len(buf)] = buf
            buf = self._bufs[lane] = grown
        buf[start - self.base:end] += samples

    def mute(self, start: int, end: int | None) -> None:
        """Silence every lane in ``[start, end)`` (``end`` None: until unmuted)."""
        if self._mutes and self._mutes[-1][1] is None:
            self._mutes[-1] = (self._mutes[-1][0], start)  # close an open span first
        self._mutes.append((start, end))

    def unmute(self, at: int) -> None:
        if self._mutes and self._mutes[-1][1] is None:
            self._mutes[-1] = (self._mutes[-1][0], at)

    def take(self, upto: int) -> dict[str, Floats]:
        """Remove and return samples ``[base, upto)`` of every lane (zeros where nothing played)."""
        n = max(0, upto - self.base)
        out: dict[str, Floats] = {}
        for name, buf in self._bufs.items():
            part = np.zeros(n, np.float32)
            have = min(n, len(buf))
            part[:have] = buf[:have]
            self._bufs[name] = buf[have:].copy() if have < len(buf) else np.zeros(0, np.float32)
            out[name] = part
        for start, end in self._mutes:
            lo, hi = max(start, self.base), upto if end is None else min(end, upto)
            if hi > lo:
                for part in out.values():
                    part[lo - self.base:hi - self.base] = 0.0
        self._mutes = [(s, e) for s, e in self._mutes if e is None or e > upto]
        self.base = max(self.base, upto)
        return out


@dataclass
class Gap:
    track: str
    start_ms: float
    end_ms: float
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"track": self.track, "start_ms": round(self.start_ms, 1),
                "end_ms": round(self.end_ms, 1), "reason": self.reason}


@dataclass
class Lane:
    """One source's resampling run state; writes into a :class:`Canvas`.

    A run's input is resampled when its output is needed (:meth:`holds_back`, :meth:`flush`),
    not frame by frame: the resampler gives the same samples however its input is split, and
    a call per 20 ms frame cost more than the resampling. Held input stays in wire bytes (whole
    samples) until then: one conversion of the joined pieces instead of one per frame."""

    name: str
    rate: int
    fmt: AudioFormat | None = None
    stream: soxr.ResampleStream | None = None
    open: bool = False  # a run is in progress (with or without a resampler)
    cursor: int = 0  # output index of the next sample the run produces
    end_ms: float = 0.0  # timeline end of the input fed so far
    group: str | None = None  # pieces of one group (an agent turn) are expected back to back
    gaps: list[Gap] = field(default_factory=list)
    held: list[bytes] = field(default_factory=list)  # the run's input not yet resampled
    run_start: int = 0  # output index where the run began
    run_in: int = 0  # input samples the run was fed (resampled or held)

    def feed(self, canvas: Canvas, start_ms: float, fmt: AudioFormat, data: bytes,
             group: str | None = None, expect_contiguous: bool = False) -> None:
        unit = sample_bytes(fmt)
        count = len(data) // unit
        if not count:
            return
        continues = (self.open and fmt == self.fmt and abs(start_ms - self.end_ms) <= CONTIGUOUS_MS)
        if not continues:
            hole = start_ms - self.end_ms
            if self.open and hole > GAP_MS and (expect_contiguous or group == self.group):
                self.gaps.append(Gap(self.name, self.end_ms, start_ms, "no_audio"))
            self.flush(canvas)
            self.fmt, self.open = fmt, True
            self.cursor = self.run_start = to_index(start_ms, self.rate)
            self.run_in = 0
            if fmt.sample_rate != self.rate:
                self.stream = soxr.ResampleStream(fmt.sample_rate, self.rate, 1, dtype="float32",
                                                  quality="HQ")
        if self.stream is None:
            self._emit(canvas, to_float(data, fmt))
        else:
            self.held.append(data if len(data) % unit == 0 else data[:count * unit])
            self.run_in += count
        self.end_ms = max(self.end_ms, start_ms) + count * 1000.0 / fmt.sample_rate
        self.group = group

    def _resample(self, canvas: Canvas) -> None:
        if self.stream is not None and self.held and self.fmt is not None:
            held = to_float(b"".join(self.held), self.fmt)
            self.held = []
            self._emit(canvas, self.stream.resample_chunk(held))

    def _emit(self, canvas: Canvas, out: Floats) -> None:
        canvas.add(self.name, self.cursor, out)
        self.cursor += len(out)

    def flush(self, canvas: Canvas) -> None:
        if self.stream is not None:
            self._resample(canvas)
            self._emit(canvas, self.stream.resample_chunk(np.zeros(0, np.float32), last=True))
        self.stream, self.open = None, False

    def reach(self) -> int | None:
        """At least what :meth:`holds_back` would return, without resampling (None: no run).
        A resampler never gives more output than its input covers (``ceil(n * rate / in)``, one
        more allowed), so when this already keeps a block back the held input may wait: it
        gives the same samples later, in one call instead of one per frame."""
        if not self.open:
            return None
        if self.stream is None or self.fmt is None:
            return self.cursor
        return self.run_start + -(-self.run_in * self.rate // self.fmt.sample_rate) + 1

    def holds_back(self, canvas: Canvas) -> int | None:
        """Output index from which an open run may still write (a resampler holds samples back,
        and a continuing piece is written at the cursor, not at its own rounded index); the
        run's input so far is resampled first."""
        if not self.open:
            return None
        self._resample(canvas)
        return self.cursor


def interleave(channels: Sequence[Floats]) -> bytes:
    """Float lanes → interleaved PCM16 LE frames (the stored and hashed representation)."""
    if len(channels) == 1:
        return to_pcm16(channels[0]).astype("<i2").tobytes()
    return to_pcm16(np.stack(channels, axis=1)).astype("<i2").tobytes()
