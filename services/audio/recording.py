"""One recording's byte pipeline: PCM → streamed FLAC → chunked AES-GCM → multipart parts (pure).

FLAC (lossless) since issue 13; a recording begun as streamed WAV (``flac=False``, the object key
says which: ``codec.is_flac``) is finished as WAV, so a resumed upload regenerates its parts.

The sink never holds more than one part of ciphertext. It also keeps the running SHA-256 of the
PCM and of the stored object, and the MD5 of each part (the S3 ETag of an unencrypted-at-rest
part), so a consumer that replays after a crash can check that it regenerated exactly the parts
it had already stored (``skip_parts``) and then carry on uploading from the next one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Final

from services.audio.codec import FlacStream, wav_header
from services.audio.crypto import DEFAULT_CHUNK, ChunkEncryptor

MIN_PART: Final = 5 * 1024 * 1024  # S3's minimum for every part but the last


@dataclass(frozen=True)
class Part:
    number: int  # 1-based, as S3 numbers parts
    body: bytes
    md5: str

    @property
    def etag(self) -> str:
        return f'"{self.md5}"'


@dataclass
class RecordingSink:
    dek: bytes
    salt: bytes
    context: bytes
    rate: int
    channels: int
    part_size: int = MIN_PART
    chunk_size: int = DEFAULT_CHUNK
    flac: bool = True
    pcm_bytes: int = 0
    object_bytes: int = 0
    parts_made: int = 0
    _buf: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self._enc = ChunkEncryptor(self.dek, self.salt, self.context, self.chunk_size)
        self._pcm_sha = hashlib.sha256()
        self._obj_sha = hashlib.sha256()
        self._flac = FlacStream(self.rate, self.channels) if self.flac else None
        self._push(self._enc.update(self._flac.header() if self._flac is not None
                                    else wav_header(self.rate, self.channels)))

    @property
    def frame_bytes(self) -> int:
        return 2 * self.channels

    def write(self, pcm: bytes) -> list[Part]:
        """Append PCM frames; returns the parts that became full."""
        if not pcm:
            return []
        self._pcm_sha.update(pcm)
        self.pcm_bytes += len(pcm)
        self._push(self._enc.update(pcm if self._flac is None else self._flac.write(pcm)))
        return self._cut(final=False)

    def finish(self) -> list[Part]:
        if self._flac is not None:
            self._push(self._enc.update(self._flac.finish()))
        self._push(self._enc.finish())
        return self._cut(final=True)

    def _push(self, ct: bytes) -> None:
        self._obj_sha.update(ct)
        self.object_bytes += len(ct)
        self._buf += ct

    def _cut(self, final: bool) -> list[Part]:
        parts: list[Part] = []
        # Cut a full part only once bytes follow it: the last part may be short, no other may.
        while len(self._buf) > self.part_size:
            parts.append(self._part(bytes(self._buf[:self.part_size])))
            del self._buf[:self.part_size]
        if final and self._buf:
            parts.append(self._part(bytes(self._buf)))
            self._buf.clear()
        return parts

    def _part(self, body: bytes) -> Part:
        self.parts_made += 1
        return Part(self.parts_made, body, hashlib.md5(body, usedforsecurity=False).hexdigest())

    @property
    def pcm_sha256(self) -> str:
        return self._pcm_sha.hexdigest()

    @property
    def object_sha256(self) -> str:
        return self._obj_sha.hexdigest()

    @property
    def duration_ms(self) -> int:
        return round(self.pcm_bytes / self.frame_bytes * 1000 / self.rate)
