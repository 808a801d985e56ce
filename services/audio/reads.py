"""Serving a recording as a standard file with random access (the API's audio route).

A stored recording is ``crypto`` chunks over a streamed FLAC (since issue 13) or, for recordings
made before, a streamed WAV (44-byte header, then PCM); the object key says which.

FLAC-stored: whichever format is asked for, the object is decrypted into an unnamed temporary file
(mode 0600, deleted on close) and checked against the recorded object SHA-256 and, decoded, the
PCM SHA-256 before a byte is served. FLAC is then that file with its total-samples field filled in;
WAV is the decoded PCM behind an exact header, in a second temporary file. Ranges are served from
the file.

WAV-stored: the served WAV is the same bytes with the header's sizes filled in, so byte ``o`` of
the file is byte ``o`` of the plaintext past the header: a Range request opens only the chunks it
covers, fetched with an S3 range read (blocking: call from a thread). A request for the whole file
also checks the object's and the PCM's SHA-256 against the recorded ones and fails (cutting the
response short) on a mismatch, like ``voxledger audio export``. Its FLAC is encoded whole into a
temporary file, checked, then served from there.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from services.audio.codec import WAV_HEADER_BYTES, is_flac, stored_pcm, wav_header
from services.audio.crypto import (
    HEADER_BYTES,
    TAG_BYTES,
    ChunkDecryptor,
    RecordingCryptoError,
    decrypt_stream,
)
from services.audio.job import context_for

FETCH_CHUNKS = 16  # chunks per S3 range read (1 MiB of plaintext at the default chunk size)


@dataclass(frozen=True)
class Recording:
    tenant: str
    session: str
    kind: str
    object_key: str
    object_bytes: int
    pcm_bytes: int
    sha256: str
    pcm_sha256: str
    rate: int
    channels: int

    @classmethod
    def from_row(cls, row: Any) -> Recording:
        return cls(row.tenant_id, row.session_id, row.kind, row.object_key,
                   int(row.object_bytes), int(row.pcm_bytes), row.sha256, row.pcm_sha256,
                   int(row.sample_rate), int(row.channels))

    @property
    def wav_size(self) -> int:
        return WAV_HEADER_BYTES + self.pcm_bytes

    @property
    def flac(self) -> bool:
        return is_flac(self.object_key)


class WavReader:
    def __init__(self, s3: Any, bucket: str, rec: Recording, dek: bytes) -> None:
        self.s3, self.bucket, self.rec = s3, bucket, rec
        header = self._get(0, HEADER_BYTES - 1)
        self.dec = ChunkDecryptor(dek, context_for(rec.tenant, rec.session, rec.kind), header)
        self.plain_size = rec.wav_size  # the stored plaintext: streamed header + PCM
        self.chunks = max(1, math.ceil(self.plain_size / self.dec.chunk_size))
        if HEADER_BYTES + self.plain_size + TAG_BYTES * self.chunks != rec.object_bytes:
            raise RecordingCryptoError("recording object size does not match its recorded size")
        self._header = header

    def _get(self, first: int, last: int) -> bytes:
        res = self.s3.get_object(Bucket=self.bucket, Key=self.rec.object_key,
                                 Range=f"bytes={first}-{last}")
        return bytes(res["Body"].read())

    def _chunks(self, first: int, last: int) -> Iterator[tuple[int, bytes, bytes]]:
        """(index, ciphertext, plaintext) of chunks ``first..last``, FETCH_CHUNKS per read."""
        size = self.dec.chunk_size + TAG_BYTES
        for start in range(first, last + 1, FETCH_CHUNKS):
            end = min(last, start + FETCH_CHUNKS - 1)
            blob = self._get(self.dec.chunk_offset(start),
                             min(self.rec.object_bytes, self.dec.chunk_offset(end + 1)) - 1)
            for i in range(start, end + 1):
                ct = blob[(i - start) * size:(i - start + 1) * size]
                yield i, ct, self.dec.open(i, ct, i == self.chunks - 1)

    def read(self, first: int, last: int) -> Iterator[bytes]:
        """Bytes ``first..last`` (inclusive) of the served WAV file."""
        whole = first == 0 and last == self.rec.wav_size - 1
        exact = wav_header(self.rec.rate, self.rec.channels, self.rec.pcm_bytes)
        obj_sha, pcm_sha = hashlib.sha256(self._header), hashlib.sha256()
        if first < WAV_HEADER_BYTES:
            yield exact[first:min(last + 1, WAV_HEADER_BYTES)]
        lo = max(first, WAV_HEADER_BYTES)
        if lo > last:
            return
        cs = self.dec.chunk_size
        for i, ct, plain in self._chunks(lo // cs, last // cs):
            base = i * cs
            if whole:
                obj_sha.update(ct)
                pcm_sha.update(plain[max(0, WAV_HEADER_BYTES - base):])
            yield plain[max(lo - base, 0):last + 1 - base]
        if whole and (obj_sha.hexdigest() != self.rec.sha256
                      or pcm_sha.hexdigest() != self.rec.pcm_sha256):
            raise RecordingCryptoError("recording does not match its recorded SHA-256")


def _decoded(s3: Any, bucket: str, rec: Recording, dek: bytes, spool: IO[bytes]
             ) -> tuple[int, int, Iterator[bytes], Any]:
    """The recording's (rate, channels, PCM pieces) and its running object SHA-256."""
    body = s3.get_object(Bucket=bucket, Key=rec.object_key)["Body"]
    obj_sha = hashlib.sha256()

    def blocks() -> Iterator[bytes]:
        for block in iter(lambda: body.read(1 << 20), b""):
            obj_sha.update(block)
            yield block

    plain = decrypt_stream(dek, context_for(rec.tenant, rec.session, rec.kind), blocks())
    try:
        rate, channels, pcm = stored_pcm(plain, rec.flac, spool, rec.pcm_bytes, rec.rate,
                                         rec.channels)
    except ValueError as exc:
        raise RecordingCryptoError(str(exc)) from None
    return rate, channels, pcm, obj_sha


def _temp(tmp_dir: Path) -> IO[bytes]:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryFile(dir=tmp_dir)


def flac_file(s3: Any, bucket: str, rec: Recording, dek: bytes, tmp_dir: Path) -> IO[bytes]:
    """The whole recording as FLAC in an unnamed temporary file, checked against its hashes."""
    import soundfile

    spool = _temp(tmp_dir)
    out = spool if rec.flac else _temp(tmp_dir)
    try:
        rate, channels, pcm, obj_sha = _decoded(s3, bucket, rec, dek, spool)
        pcm_sha = hashlib.sha256()
        sink = None if rec.flac else soundfile.SoundFile(out, "w", rate, channels, "PCM_16",
                                                         format="FLAC")
        for piece in pcm:
            pcm_sha.update(piece)
            if sink is not None:
                sink.write(np.frombuffer(piece, "<i2").reshape(-1, channels))
        if sink is not None:
            sink.close()
        if obj_sha.hexdigest() != rec.sha256 or pcm_sha.hexdigest() != rec.pcm_sha256:
            raise RecordingCryptoError("recording does not match its recorded SHA-256")
    except BaseException:
        out.close()
        spool.close()
        raise
    if out is not spool:
        spool.close()
    out.seek(0)
    return out


def wav_file(s3: Any, bucket: str, rec: Recording, dek: bytes, tmp_dir: Path) -> IO[bytes]:
    """A FLAC-stored recording as WAV (exact sizes) in an unnamed temporary file, checked."""
    spool, out = _temp(tmp_dir), _temp(tmp_dir)
    try:
        _rate, _channels, pcm, obj_sha = _decoded(s3, bucket, rec, dek, spool)
        out.write(wav_header(rec.rate, rec.channels, rec.pcm_bytes))
        pcm_sha = hashlib.sha256()
        for piece in pcm:
            pcm_sha.update(piece)
            out.write(piece)
        if obj_sha.hexdigest() != rec.sha256 or pcm_sha.hexdigest() != rec.pcm_sha256:
            raise RecordingCryptoError("recording does not match its recorded SHA-256")
    except BaseException:
        out.close()
        raise
    finally:
        spool.close()
    out.seek(0)
    return out
