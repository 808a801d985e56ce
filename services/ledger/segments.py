"""Raw audio segment layout: one S3 object per sealed batch, one encrypted part per session (pure).

A sealed batch of a tenant writes a single object ``raw/<tenant>/_batch/<first position>.seg``
(ids only, law 7; ``_batch`` is a reserved id no gateway session can use). Inside it, each
(session, direction) of the batch has one *part*: its audio bytes in arrival order, compressed
losslessly and then encrypted under that session's own data key with AES-GCM, the part id in the
associated data. Parts are concatenated; nothing else is in the object.

Codecs (named per part, in every reference and in ``ledger_audio_segments.codec``):

* ``flac``: the bytes read as 16-bit little-endian mono samples, as a complete FLAC file
  (RFC 9639). Nearly every provider sends PCM16, where a general-purpose compressor finds little
  to remove and FLAC's linear prediction removes a third or more (on simulated calls 0.34 of the
  bytes where zstd left 0.41; with added noise 0.65 against 0.79). Lossless whatever the bytes
  are: decoding gives back the exact samples, so the exact bytes. Sample rate and channel count
  inside are nominal; the audio's real format is the session's, as before.
* ``zstd``: a Zstandard frame (RFC 8878): for G.711 (8-bit) audio, odd lengths, and any part
  where FLAC did not come out below ``FLAC_GOOD`` of the bytes and zstd was smaller.

Addressing stays exact per entry: an entry's ``{"$audio": ...}`` reference names the part
(``segment``, which begins with the object's key), the part's byte range in the object (``at``,
``size``), the
codec, and the slice of the part's *decompressed* bytes (``offset``, ``length``). The part id is
``<object key>#<session>/<direction>``, so the object key is not repeated in every reference
(each payload is stored per entry: bytes there count as much as audio bytes do). The leaf still
commits to the SHA-256 of those exact bytes, so compression changes nothing a proof depends on.

Sharing an object between sessions does not weaken erasure: a part is readable only with its
session's key, so destroying the key shreds that session's bytes in every object; the object
itself is deleted once no session with a live key has a part in it (``services/ledger/forget.py``).

Objects sealed before this layout (``raw/<tenant>/<session>/<direction>/<position>.seg``: one
object, one uncompressed encrypted segment) stay readable: a reference without ``at`` is that.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import soundfile
import zstandard

from services.platform.keys import decrypt, encrypt

BATCH_DIR: Final = "_batch"
CODEC_ZSTD: Final = "zstd"
CODEC_FLAC: Final = "flac"
# FLAC at or below this share of the bytes is kept without trying zstd (PCM16 speech is far
# below; G.711 read as 16-bit samples is not, and zstd is tried too).
FLAC_GOOD: Final = 0.75
_FLAC_RATE: Final = 48000  # nominal: any valid rate gives the same samples back
ZSTD_LEVEL: Final = 3
# Bound on one part's decompressed size (a decompression bomb in a tampered object stops here):
# a sealer batch holds a few hundred frames of at most a few hundred KB of audio each.
MAX_PART_BYTES: Final = 256 * 1024 * 1024


class SegmentError(Exception):
    """A part that does not decompress within its bound or to its declared length."""


def batch_key(tenant: str, first_position: int) -> str:
    # Deterministic: a retried batch overwrites its own object.
    return f"raw/{tenant}/{BATCH_DIR}/{first_position:012d}.seg"


def part_id(object_key: str, session: str, direction: str) -> str:
    return f"{object_key}#{session}/{direction}"


def part_aad(tenant: str, session: str, part: str) -> bytes:
    # Same domain as the per-session segments had (services/ledger/sealing.py segment_aad).
    return f"voxledger/audio/v1/{tenant}/{session}/{part}".encode()


def _zstd(plain: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True).compress(plain)


def _flac(plain: bytes) -> bytes:
    out = io.BytesIO()
    with soundfile.SoundFile(out, "w", _FLAC_RATE, 1, "PCM_16", format="FLAC") as f:
        f.write(np.frombuffer(plain, dtype="<i2"))
    return out.getvalue()


def compress(plain: bytes) -> tuple[str, bytes]:
    """The part's codec and compressed bytes: FLAC for 16-bit audio unless zstd does better."""
    if plain and len(plain) % 2 == 0:
        flac = _flac(plain)
        if len(flac) <= FLAC_GOOD * len(plain):
            return CODEC_FLAC, flac
        packed = _zstd(plain)
        return (CODEC_FLAC, flac) if len(flac) < len(packed) else (CODEC_ZSTD, packed)
    return CODEC_ZSTD, _zstd(plain)


def _unflac(data: bytes, limit: int) -> bytes:
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            if (f.format, f.subtype, f.channels) != ("FLAC", "PCM_16", 1):
                raise SegmentError("raw audio part is not 16-bit mono FLAC")
            if not 0 < f.frames <= limit // 2:  # STREAMINFO's count, before reading anything
                raise SegmentError("raw audio part exceeds its decompressed size bound")
            samples = f.read(dtype="int16")
            if len(samples) != f.frames:  # a cut stream
                raise SegmentError("raw audio part does not decompress")
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise SegmentError("raw audio part does not decompress") from exc
    return bytes(samples.astype("<i2", copy=False).tobytes())


def decompress(data: bytes, codec: str | None, limit: int = MAX_PART_BYTES) -> bytes:
    if codec is None:
        return data
    if codec == CODEC_FLAC:
        return _unflac(data, limit)
    if codec != CODEC_ZSTD:
        raise SegmentError("unknown raw audio codec")
    try:
        # max_output_size only applies when the frame does not declare its size: check both.
        declared = zstandard.frame_content_size(data)
        if declared > limit:
            raise SegmentError("raw audio part exceeds its decompressed size bound")
        return bytes(zstandard.ZstdDecompressor().decompress(data, max_output_size=limit))
    except zstandard.ZstdError as exc:
        raise SegmentError("raw audio part does not decompress") from exc


def seal_part(dek: bytes, aad: bytes, plain: bytes) -> tuple[str, bytes]:
    """Compress, then encrypt (never the other way: ciphertext does not compress); returns the
    codec with the sealed part."""
    codec, packed = compress(plain)
    return codec, encrypt(dek, packed, aad)


def open_part(dek: bytes, aad: bytes, blob: bytes, codec: str | None) -> bytes:
    """Decrypt (GCM refuses any changed byte), then decompress within the bound."""
    return decompress(decrypt(dek, blob, aad), codec)


@dataclass(frozen=True)
class Locator:
    """Where one entry's audio part is: the part id, and for batch objects its byte range."""

    part: str
    object: str
    at: int | None = None
    size: int | None = None
    codec: str | None = None

    @classmethod
    def of(cls, ref: dict[str, Any]) -> Locator:
        part = str(ref["segment"])
        if "at" not in ref:
            return cls(part, part)  # a pre-batch segment: the object is the segment
        codec = ref.get("codec")
        return cls(part, part.split("#", 1)[0], int(ref["at"]), int(ref["size"]),
                   None if codec is None else str(codec))

    def range_header(self) -> str | None:
        if self.at is None or self.size is None:
            return None
        return f"bytes={self.at}-{self.at + self.size - 1}"
