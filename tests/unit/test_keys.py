"""Development key provider: per-tenant KEKs, DEK wrapping, peppers and signing keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from services.platform.keys import (
    KeyError_,
    LocalKeyProvider,
    decrypt,
    encrypt,
    new_dek,
    public_key_bytes,
    subject_index,
)


def test_keyring_file_is_private_and_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    assert LocalKeyProvider.create_file(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    before = path.read_bytes()
    assert not LocalKeyProvider.create_file(path)
    assert path.read_bytes() == before


def test_dek_wrap_round_trip_and_tenant_binding(tmp_path: Path) -> None:
    keys = LocalKeyProvider(os.urandom(32))
    dek = new_dek()
    wrapped = keys.wrap_dek("acme", dek)
    assert keys.unwrap_dek("acme", wrapped) == dek
    with pytest.raises(KeyError_):
        keys.unwrap_dek("other", wrapped)
    with pytest.raises(KeyError_):
        LocalKeyProvider(os.urandom(32)).unwrap_dek("acme", wrapped)


def test_tenants_get_independent_secrets() -> None:
    keys = LocalKeyProvider(os.urandom(32))
    assert keys.pepper("a") != keys.pepper("b")
    assert public_key_bytes(keys.signing_key("a")) != public_key_bytes(keys.signing_key("b"))
    assert public_key_bytes(keys.signing_key("a")) == public_key_bytes(keys.signing_key("a"))


def test_aead_detects_tampering() -> None:
    key = new_dek()
    blob = encrypt(key, b"hello", b"aad")
    assert decrypt(key, blob, b"aad") == b"hello"
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(Exception):  # noqa: B017 - cryptography raises InvalidTag
        decrypt(key, flipped, b"aad")
    with pytest.raises(Exception):  # noqa: B017
        decrypt(key, blob, b"other")


def test_subject_index_is_keyed() -> None:
    assert subject_index(b"p1", "+14155550100") != subject_index(b"p2", "+14155550100")
    assert len(subject_index(b"p1", "+14155550100")) == 64


def test_missing_keyring_message_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(KeyError_, match="voxledger up"):
        LocalKeyProvider.from_file(tmp_path / "nope.json")
