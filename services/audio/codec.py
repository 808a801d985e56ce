"""Decoding wire audio to float samples, the FLAC and WAV framing of recordings (pure).

G.711 is decoded with numpy lookup tables because ``audioop`` left the standard library in
Python 3.13. Tables follow ITU-T G.711 (Sun ``g711.c``, which ``audioop`` used), so μ-law bytes
decode to exactly the values ``audioop.ulaw2lin`` gave.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import IO, Final

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


def sample_bytes(fmt: AudioFormat) -> int:
    """Wire bytes per sample :func:`to_float` gives (a trailing part of one is dropped), so
    pieces of whole samples convert to the same floats apart or joined."""
    width = 2 if fmt.codec == "pcm16" else 1
    return 2 * width if fmt.channels == 2 else width


def to_float(data: bytes, fmt: AudioFormat) -> Floats:
    if fmt.codec == "pcm16" and fmt.channels == 1:  # the usual frame: no int16 copy
        out = np.frombuffer(data, dtype="<i2", count=len(data) // 2).astype(np.float32)
    else:
        out = to_int16(data, fmt).astype(np.float32)
    out *= np.float32(_SCALE)  # exact: a power of two
    return out


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


# Streamed FLAC (recordings since issue 13): libFLAC writes STREAMINFO first and, once the stream
# ends, seeks back to fill in the total samples, the frame size range and the audio MD5. The head
# of a recording is stored (and encrypted) long before that, so those writes are dropped: the FLAC
# format defines 0 there as "unknown", every decoder reads such a file, and the output depends on
# the PCM alone (not on how it was cut into writes), which a resumed upload relies on.
FLAC_SUFFIX: Final = ".flac.vxa"
DECODE_FRAMES: Final = 16384


class _AppendOnly:
    """A write-only file for libsndfile whose bytes are taken as they come; seeks back are
    honoured for position only and writes before the end are dropped (see above)."""

    def __init__(self) -> None:
        self.size, self.pos = 0, 0
        self.fresh = bytearray()

    def write(self, data: bytes) -> int:
        n = len(data)
        if self.pos >= self.size:
            self.fresh += bytes(data)
            self.size += n
        self.pos += n
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int = -1) -> bytes:
        return b""

    def take(self) -> bytes:
        out = bytes(self.fresh)
        self.fresh.clear()
        return out


class FlacStream:
    """PCM16 (interleaved) in, FLAC bytes out as libFLAC completes its blocks (lossless)."""

    def __init__(self, rate: int, channels: int) -> None:
        import soundfile

        self.channels = channels
        self._file = _AppendOnly()
        self._sf = soundfile.SoundFile(self._file, "w", rate, channels, "PCM_16", format="FLAC")
        self._rest = b""

    def header(self) -> bytes:
        return self._file.take()

    def write(self, pcm: bytes) -> bytes:
        data = self._rest + pcm
        usable = len(data) - len(data) % (2 * self.channels)
        self._rest = data[usable:]
        if usable:
            self._sf.write(np.frombuffer(data[:usable], "<i2").reshape(-1, self.channels))
        return self._file.take()

    def finish(self) -> bytes:
        if self._rest:
            raise ValueError("PCM ended inside a frame")
        self._sf.close()
        return self._file.take()


def is_flac(object_key: str) -> bool:
    """Recordings are FLAC since issue 13; older ones are streamed WAV (``.wav.vxa``)."""
    return object_key.endswith(FLAC_SUFFIX)


def set_total_samples(spool: IO[bytes], frames: int) -> None:
    """Fill in STREAMINFO's total samples (36 bits at byte 18: after ``fLaC``, the block header
    and rate/channels/bits) of a streamed FLAC whose length is known now. libsndfile cannot read
    a file whose length is unknown past its first block, and a served file is better with it."""
    spool.seek(0)
    head = spool.read(26)
    if len(head) < 26 or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        raise ValueError("not a FLAC recording")
    if not 0 <= frames < 1 << 36:
        raise ValueError("FLAC sample count out of range")
    word = int.from_bytes(head[18:26], "big")
    word = (word & ~((1 << 36) - 1)) | frames
    spool.seek(18)
    spool.write(word.to_bytes(8, "big"))
    spool.seek(0)


def stored_pcm(plain: Iterator[bytes], flac: bool, spool: IO[bytes], pcm_bytes: int,
               rate: int, channels: int) -> tuple[int, int, Iterator[bytes]]:
    """(rate, channels, PCM16 pieces) of a stored recording's decrypted bytes.

    WAV streams through; FLAC is first written to ``spool`` (a temporary file or buffer the
    caller owns: libsndfile decodes from a seekable file) with its length (``pcm_bytes``, as
    recorded) filled in, then decoded block by block; ``spool`` then holds a complete FLAC file.
    libFLAC writes nothing for a stream without samples, so an empty FLAC recording is empty:
    ``rate`` and ``channels`` (as recorded) describe it. ValueError when the bytes are neither.
    """
    if not flac:
        head = bytearray()
        for piece in plain:
            head += piece
            if len(head) >= WAV_HEADER_BYTES:
                break
        rate, channels = parse_wav_header(bytes(head[:WAV_HEADER_BYTES]))
        rest = bytes(head[WAV_HEADER_BYTES:])

        def wav() -> Iterator[bytes]:
            if rest:
                yield rest
            yield from plain

        return rate, channels, wav()
    import soundfile

    for piece in plain:
        spool.write(piece)
    spool.seek(0)
    info = spool.read(26)
    if not info and pcm_bytes == 0:
        return rate, channels, iter(())
    if len(info) < 26 or info[:4] != b"fLaC":
        raise ValueError("not a FLAC recording")
    channels = ((info[20] >> 1) & 0x07) + 1
    set_total_samples(spool, pcm_bytes // (2 * channels))
    try:
        sf = soundfile.SoundFile(spool, "r")
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise ValueError("not a FLAC recording") from exc
    if sf.format != "FLAC" or sf.subtype != "PCM_16":
        sf.close()
        raise ValueError("not a PCM16 FLAC recording")

    def decoded() -> Iterator[bytes]:
        with sf:
            while True:
                block = sf.read(DECODE_FRAMES, dtype="int16", always_2d=True)
                if not len(block):
                    return
                yield block.astype("<i2").tobytes()

    return int(sf.samplerate), int(sf.channels), decoded()
