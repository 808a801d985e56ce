"""Raw audio segment layout: one S3 object per sealed batch, one encrypted part per session (pure).

A sealed batch of a tenant writes a single object ``raw/<tenant>/_batch/<first position>.seg``
(ids only, law 7; ``_batch`` is a reserved id no gateway session can use). Inside it, each
(session, direction) of the batch has one *part*: its audio bytes in arrival order, compressed
losslessly (zstd) and then encrypted under that session's own data key with AES-GCM, the part id
in the associated data. Parts are concatenated; nothing else is in the object.

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

from dataclasses import dataclass
from typing import Any, Final

import zstandard

from services.platform.keys import decrypt, encrypt

BATCH_DIR: Final = "_batch"
CODEC_ZSTD: Final = "zstd"
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


def compress(plain: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_content_size=True).compress(plain)


def decompress(data: bytes, codec: str | None, limit: int = MAX_PART_BYTES) -> bytes:
    if codec is None:
        return data
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


def seal_part(dek: bytes, aad: bytes, plain: bytes) -> bytes:
    """Compress, then encrypt (never the other way: ciphertext does not compress)."""
    return encrypt(dek, compress(plain), aad)


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
