"""How a sealed payload is stored: canonical JSON, compressed with a shipped dictionary, encrypted.

Most ledger entries are 20 ms audio frames whose payload, once the audio is moved to the batch
object, is a few hundred bytes of provider JSON (``"type":"response.output_audio.delta"``,
``"response_id"``, an ``$audio`` reference ...). Compressed one by one, such small documents barely
shrink (322 → 250 bytes on average); with a Zstandard dictionary of the providers' wire vocabulary
they shrink about fourfold, and Postgres rows were the largest share of the bytes stored per
call-minute (``storage_ratio`` in ``make bench``).

Format of the plaintext under the payload's AES-GCM (``services.platform.keys.encrypt``):

* a Zstandard frame (RFC 8878) when it starts with the frame magic ``28 b5 2f fd``: compressed
  with the dictionary whose ``Dictionary_ID`` its header names (shipped in
  ``services/ledger/dictionaries/payload-<id>.dict`` and copied into evidence bundles), declaring
  its content size;
* the canonical JSON itself otherwise (every entry sealed before dictionaries, and any payload the
  dictionary does not make smaller). JSON never starts with those bytes, so the two cannot be
  confused.

The leaf commits to the ciphertext, as before, so verification is unchanged. Dictionaries are
never replaced, only added: an entry names the one it was written with forever.
``bench/build_payload_dictionary.py`` trains a new one from simulated calls of every provider.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Final

import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.envelope import MAX_ENVELOPE_BYTES
from services.platform.keys import decrypt, encrypt

ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
DICTIONARY_DIR: Final = Path(__file__).with_name("dictionaries")
# The dictionary new payloads are written with (a private-use id, RFC 8878 §5: >= 32768).
CURRENT_DICTIONARY: Final = 0x766C0001
LEVEL: Final = 3


class PayloadError(ValueError):
    """A payload that decrypted but does not decompress, or names an unknown dictionary."""


def dictionary_path(dict_id: int) -> Path:
    return DICTIONARY_DIR / f"payload-{dict_id:08x}.dict"


@lru_cache(maxsize=8)
def dictionary(dict_id: int) -> zstandard.ZstdCompressionDict:
    path = dictionary_path(dict_id)
    if not path.is_file():
        raise PayloadError(f"payload compressed with unknown dictionary {dict_id:#x}")
    d = zstandard.ZstdCompressionDict(path.read_bytes())
    if d.dict_id() != dict_id:
        raise PayloadError(f"dictionary file {path.name} holds id {d.dict_id():#x}")
    return d


# A decompressor per thread and dictionary: building one costs ~12 µs with the dictionary, a
# payload's decompression ~2 µs (projections decode on the event loop's worker threads, and
# python-zstandard's objects must not be shared between threads).
_local = threading.local()


def _decompressor(dict_id: int) -> zstandard.ZstdDecompressor:
    cache: dict[int, zstandard.ZstdDecompressor] | None = getattr(_local, "decompressors", None)
    if cache is None:
        cache = _local.decompressors = {}
    dec = cache.get(dict_id)
    if dec is None:
        dec = cache[dict_id] = zstandard.ZstdDecompressor(dict_data=dictionary(dict_id))
    return dec


@lru_cache(maxsize=1)
def _compressor() -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=dictionary(CURRENT_DICTIONARY),
                                    write_content_size=True, write_checksum=False,
                                    write_dict_id=True)


def pack(plain: bytes) -> bytes:
    """The stored form of a canonical JSON payload: the smaller of compressed and as is."""
    packed = _compressor().compress(plain)
    return packed if len(packed) < len(plain) else plain


def unpack(stored: bytes, limit: int = MAX_ENVELOPE_BYTES) -> bytes:
    """The canonical JSON of a stored payload, within ``limit`` bytes."""
    if not stored.startswith(ZSTD_MAGIC):
        return stored
    try:
        params = zstandard.get_frame_parameters(stored)
        # Sealed payloads always declare their size; a frame that does not, or claims more than
        # an envelope can hold, is refused before anything is allocated.
        if params.content_size in (zstandard.CONTENTSIZE_UNKNOWN, zstandard.CONTENTSIZE_ERROR) \
                or params.content_size > limit:
            raise PayloadError("compressed payload does not declare a size within its bound")
        return bytes(_decompressor(params.dict_id).decompress(stored, max_output_size=limit))
    except zstandard.ZstdError as exc:
        raise PayloadError("compressed payload does not decompress") from exc


def seal_payload(dek: bytes | AESGCM, plain: bytes, aad: bytes) -> bytes:
    """Compress (with the current dictionary), then encrypt."""
    return encrypt(dek, pack(plain), aad)


def open_payload(dek: bytes | AESGCM, blob: bytes, aad: bytes) -> bytes:
    """Decrypt (GCM refuses any changed byte), then decompress within the bound."""
    return unpack(decrypt(dek, blob, aad))
