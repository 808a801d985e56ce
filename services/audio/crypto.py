"""Chunked AES-256-GCM for recordings: encrypt while the call runs, decrypt as a stream (pure).

Object layout::

    header  = MAGIC(8) || salt(16) || chunk_size(u32)          (clear, 28 bytes)
    chunk i = AES-GCM(K, nonce=i as 12 bytes BE, plaintext_i, aad)  (plaintext_i + 16-byte tag)
    aad     = MAGIC || salt || context || i (u64) || final (u8)

``K = HKDF(session DEK, salt, context)``: a fresh random salt per upload, so a nonce (the chunk
index) is never reused under one key with different plaintext. Deterministic nonces make the
ciphertext a function of (DEK, salt, plaintext): a consumer that crashed can regenerate the parts
it already stored and check them against their ETags, and the object hash can be recomputed.
Every chunk but the last holds exactly ``chunk_size`` plaintext bytes; the index and the final
flag in the AAD make reordering, dropping and truncating chunks fail authentication.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC: Final = b"VXAUDIO1"
HEADER_BYTES: Final = len(MAGIC) + 16 + 4
TAG_BYTES: Final = 16
DEFAULT_CHUNK: Final = 64 * 1024


class RecordingCryptoError(Exception):
    """The object is not a recording of this session, or was altered, reordered or truncated."""


def recording_key(dek: bytes, salt: bytes, context: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                info=b"voxledger/recording/v1/" + context).derive(dek)


def _aad(salt: bytes, context: bytes, index: int, final: bool) -> bytes:
    return MAGIC + salt + context + struct.pack(">QB", index, 1 if final else 0)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class ChunkEncryptor:
    """Feed plaintext; get ciphertext bytes out in order. ``finish`` seals the final chunk."""

    def __init__(self, dek: bytes, salt: bytes, context: bytes,
                 chunk_size: int = DEFAULT_CHUNK) -> None:
        if len(salt) != 16 or chunk_size < 1:
            raise ValueError("salt must be 16 bytes and chunk_size positive")
        self._aead = AESGCM(recording_key(dek, salt, context))
        self.salt, self.context, self.chunk_size = salt, context, chunk_size
        self.index = 0
        self._pending = bytearray()
        self.started = False
        self.finished = False

    def header(self) -> bytes:
        return MAGIC + self.salt + struct.pack(">I", self.chunk_size)

    def _seal(self, plaintext: bytes, final: bool) -> bytes:
        ct = self._aead.encrypt(_nonce(self.index), plaintext,
                                _aad(self.salt, self.context, self.index, final))
        self.index += 1
        return ct

    def update(self, plaintext: bytes) -> bytes:
        if self.finished:
            raise ValueError("encryptor already finished")
        out = bytearray()
        if not self.started:
            out += self.header()
            self.started = True
        self._pending += plaintext
        # Keep at least one byte back: the last chunk must carry the final flag.
        while len(self._pending) > self.chunk_size:
            out += self._seal(bytes(self._pending[:self.chunk_size]), False)
            del self._pending[:self.chunk_size]
        return bytes(out)

    def finish(self) -> bytes:
        out = self.update(b"")
        self.finished = True
        return out + self._seal(bytes(self._pending), True)


def read_header(header: bytes) -> tuple[bytes, int]:
    if len(header) < HEADER_BYTES or header[:len(MAGIC)] != MAGIC:
        raise RecordingCryptoError("not a Voxledger recording object")
    salt = header[len(MAGIC):len(MAGIC) + 16]
    (chunk_size,) = struct.unpack(">I", header[len(MAGIC) + 16:HEADER_BYTES])
    return salt, chunk_size


def decrypt_stream(dek: bytes, context: bytes, blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Plaintext chunks of an object given as byte blocks of any size; raises on any tampering."""
    buf = bytearray()
    it = iter(blocks)
    aead: AESGCM | None = None
    salt, chunk_size, index, done = b"", 0, 0, False
    for block in it:
        buf += block
        if aead is None:
            if len(buf) < HEADER_BYTES:
                continue
            salt, chunk_size = read_header(bytes(buf[:HEADER_BYTES]))
            aead = AESGCM(recording_key(dek, salt, context))
            del buf[:HEADER_BYTES]
        full = chunk_size + TAG_BYTES
        # A full-size chunk with more bytes after it cannot be the final one.
        while len(buf) > full:
            yield _open(aead, salt, context, index, bytes(buf[:full]), False)
            del buf[:full]
            index += 1
    if aead is None:
        raise RecordingCryptoError("recording object is truncated (no header)")
    if done or len(buf) < TAG_BYTES:
        raise RecordingCryptoError("recording object is truncated")
    yield _open(aead, salt, context, index, bytes(buf), True)


def _open(aead: AESGCM, salt: bytes, context: bytes, index: int, ct: bytes, final: bool) -> bytes:
    try:
        return aead.decrypt(_nonce(index), ct, _aad(salt, context, index, final))
    except InvalidTag:
        raise RecordingCryptoError(f"recording chunk {index} failed authentication "
                                   "(altered, reordered or truncated)") from None


class ChunkDecryptor:
    """Random access into a recording object: open chunk ``i`` alone (HTTP Range reads).

    Each chunk is authenticated with its index and final flag, so a chunk served out of order,
    from another object or cut short fails like in :func:`decrypt_stream`.
    """

    def __init__(self, dek: bytes, context: bytes, header: bytes) -> None:
        self.salt, self.chunk_size = read_header(header)
        self.context = context
        self._aead = AESGCM(recording_key(dek, self.salt, context))

    def chunk_offset(self, index: int) -> int:
        """Where chunk ``index`` starts in the object."""
        return HEADER_BYTES + index * (self.chunk_size + TAG_BYTES)

    def open(self, index: int, ct: bytes, final: bool) -> bytes:
        return _open(self._aead, self.salt, self.context, index, ct, final)
