"""Sealed payloads: dictionary-compressed canonical JSON under AES-GCM, bounded on the way back."""

from __future__ import annotations

import json

import pytest
import zstandard
from cryptography.exceptions import InvalidTag

from services.evidence import verify_bundle
from services.ledger import payloads
from services.ledger.payloads import (
    CURRENT_DICTIONARY,
    ZSTD_MAGIC,
    PayloadError,
    open_payload,
    pack,
    seal_payload,
    unpack,
)
from services.platform.keys import encrypt, new_dek

AUDIO_FRAME = json.dumps({
    "type": "response.output_audio.delta", "response_id": "resp_anKN3kMrM9hATcyKXzwTA",
    "item_id": "item_IA4BzoZ3vUrLfeCoLl1Ww", "output_index": 0, "content_index": 0,
    "delta": {"$audio": {"sha256": "51" * 32, "length": 960, "offset": 0, "at": 51239,
                         "segment": "raw/acme/_batch/000000000000.seg#call-1/server",
                         "size": 41621, "codec": "zstd"}},
    "event_id": "event_dvfLlJ92SFUytCaB9lrKd"}, separators=(",", ":")).encode()
AAD = b"voxledger/payload/v1/acme/call-1/e1"


def test_the_shipped_dictionary_is_the_current_one() -> None:
    d = payloads.dictionary(CURRENT_DICTIONARY)
    assert d.dict_id() == CURRENT_DICTIONARY >= 32768  # private-use range of RFC 8878


def test_a_provider_frame_shrinks_and_round_trips_exactly() -> None:
    packed = pack(AUDIO_FRAME)
    assert packed.startswith(ZSTD_MAGIC)
    assert len(packed) < len(AUDIO_FRAME) // 2
    assert zstandard.get_frame_parameters(packed).dict_id == CURRENT_DICTIONARY
    assert unpack(packed) == AUDIO_FRAME
    dek = new_dek()
    assert open_payload(dek, seal_payload(dek, AUDIO_FRAME, AAD), AAD) == AUDIO_FRAME


@pytest.mark.parametrize("plain", [b"{}", b'{"a":1}', b"[]"])
def test_what_compression_does_not_shrink_is_stored_as_is(plain: bytes) -> None:
    assert pack(plain) == plain
    assert unpack(plain) == plain


def test_payloads_sealed_before_dictionaries_still_open() -> None:
    dek = new_dek()
    legacy = encrypt(dek, AUDIO_FRAME, AAD)
    assert open_payload(dek, legacy, AAD) == AUDIO_FRAME


def test_a_changed_byte_is_refused_before_decompression() -> None:
    dek = new_dek()
    blob = bytearray(seal_payload(dek, AUDIO_FRAME, AAD))
    blob[20] ^= 1
    with pytest.raises(InvalidTag):
        open_payload(dek, bytes(blob), AAD)


def test_unknown_dictionary_is_a_clear_error() -> None:
    other = zstandard.train_dictionary(1024, [AUDIO_FRAME + bytes([i]) * i for i in range(64)],
                                       dict_id=0x766CFFFF)
    frame = zstandard.ZstdCompressor(dict_data=other, write_content_size=True).compress(
        AUDIO_FRAME)
    with pytest.raises(PayloadError, match="unknown dictionary 0x766cffff"):
        unpack(frame)


def test_sizes_are_bounded_before_anything_is_allocated() -> None:
    no_size = zstandard.ZstdCompressor(write_content_size=False).compress(AUDIO_FRAME)
    with pytest.raises(PayloadError, match="declare a size"):
        unpack(no_size)
    big = zstandard.ZstdCompressor(write_content_size=True).compress(b"{" + b" " * 5000 + b"}")
    with pytest.raises(PayloadError, match="declare a size"):
        unpack(big, limit=4096)
    with pytest.raises(PayloadError, match="does not decompress"):
        unpack(pack(AUDIO_FRAME)[:-6])  # a cut frame


def test_the_standalone_verifier_reads_payloads_with_the_bundled_dictionary() -> None:
    packed = pack(AUDIO_FRAME)
    shipped = {CURRENT_DICTIONARY: payloads.dictionary_path(CURRENT_DICTIONARY).read_bytes()}
    assert verify_bundle._unpack_payload("line 1", packed, shipped) == AUDIO_FRAME
    with pytest.raises(verify_bundle.Bad, match="dictionary is missing"):
        verify_bundle._unpack_payload("line 1", packed, {})
    files = {f"codecs/payload-{CURRENT_DICTIONARY:08x}.dict": b"d", "events.jsonl": b""}
    assert verify_bundle._dictionaries(files) == {CURRENT_DICTIONARY: b"d"}
    with pytest.raises(ValueError):  # reported by the verifier as a bad codecs/ file name
        verify_bundle._dictionaries({"codecs/payload-zz.dict": b"d"})
