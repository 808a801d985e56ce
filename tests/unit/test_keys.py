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


def test_dek_wrap_round_trip_and_tenant_session_binding(tmp_path: Path) -> None:
    keys = LocalKeyProvider(os.urandom(32))
    dek = new_dek()
    wrapped = keys.wrap_dek("acme", dek, "s1")
    assert keys.unwrap_dek("acme", wrapped, "s1") == dek
    with pytest.raises(KeyError_):
        keys.unwrap_dek("other", wrapped, "s1")
    with pytest.raises(KeyError_):
        keys.unwrap_dek("acme", wrapped, "s2")  # copied to another session: refused
    with pytest.raises(KeyError_):
        LocalKeyProvider(os.urandom(32)).unwrap_dek("acme", wrapped, "s1")


def _file_keys(tmp_path: Path) -> LocalKeyProvider:
    path = tmp_path / "keys" / "keyring.json"
    LocalKeyProvider.create_file(path)
    return LocalKeyProvider.from_file(path)


def test_tenant_keks_are_random_files_and_die_one_at_a_time(tmp_path: Path) -> None:
    keys = _file_keys(tmp_path)
    a, b = new_dek(), new_dek()
    wa, wb = keys.wrap_dek("acme", a, "s"), keys.wrap_dek("beta", b, "s")
    ring = tmp_path / "keys" / "tenants" / "acme.json"
    assert stat.S_IMODE(os.stat(ring).st_mode) == 0o600
    assert b"kek" not in ring.read_bytes().lower().replace(b"keks", b"")  # only wrapped blobs
    # a second process (another provider on the same keyring) reads the same tenant KEK
    other = LocalKeyProvider.from_file(tmp_path / "keys" / "keyring.json")
    assert other.unwrap_dek("acme", wa, "s") == a
    assert keys.destroy_tenant_kek("acme")
    assert not ring.exists()
    with pytest.raises(KeyError_, match="gone"):
        other.unwrap_dek("acme", wa, "s")  # seen at once by the other process too
    assert other.unwrap_dek("beta", wb, "s") == b  # the other tenant is untouched
    assert not keys.destroy_tenant_kek("acme")


def test_rotation_keeps_old_versions_and_rewrap_upgrades_legacy(tmp_path: Path) -> None:
    from services.platform.keys import encrypt as enc
    from services.platform.keys import needs_rewrap, rewrap_dek

    keys = _file_keys(tmp_path)
    dek = new_dek()
    old = keys.wrap_dek("acme", dek, "s")
    assert keys.rotate_tenant_kek("acme") == 2
    new = keys.wrap_dek("acme", dek, "s")
    assert old[1:3] != new[1:3]
    assert keys.unwrap_dek("acme", old, "s") == dek == keys.unwrap_dek("acme", new, "s")
    # a format-1 key from a keyring made before per-tenant KEKs (HKDF-derived KEK, aad=tenant)
    legacy = bytes([1]) + enc(keys._derive("kek", "acme"), dek, b"acme")
    assert keys.unwrap_dek("acme", legacy, "s") == dek
    assert needs_rewrap(legacy) and not needs_rewrap(new)
    upgraded = rewrap_dek(keys, "acme", "s", legacy)
    assert upgraded[0] == 2 and keys.unwrap_dek("acme", upgraded, "s") == dek
    keys.destroy_tenant_kek("acme")
    with pytest.raises(KeyError_):
        keys.unwrap_dek("acme", legacy, "s")  # derived keys die with the tenant too


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
