"""C2SP signed-note and tlog-checkpoint: the Go reference vector, round trips, refusals."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger import checkpoint as cp
from services.ledger.checkpoint import Checkpoint, Verifier

# Hypothesis deadlines are timed assertions; a loaded machine must not fail a proof test.
untimed = settings(deadline=None)

# golang.org/x/mod/sumdb/note (note.go doc example and note_test.go): a second implementation's
# key, text and signature. Ed25519 is deterministic, so signing must reproduce it byte for byte.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
           "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def go_private_key() -> Ed25519PrivateKey:
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])  # the base64 holds a '+'
    assert raw[0] == cp.ALG_ED25519
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def key(seed: int = 1) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


ROOT = bytes(range(32))


def test_go_vector_verifies_and_reproduces() -> None:
    verifier = Verifier.parse(GO_VKEY)
    assert verifier.vkey() == GO_VKEY
    assert Verifier.from_public_key("PeterNeumann", go_private_key()) == verifier
    assert cp.open_note(GO_NOTE, verifier).text == GO_TEXT
    assert cp.sign_note(GO_TEXT, "PeterNeumann", go_private_key()) == GO_NOTE


def test_go_vector_with_one_character_changed_fails() -> None:
    with pytest.raises(cp.BadSignatureError):
        cp.open_note(GO_NOTE.replace("cryptography", "cryptographY"), Verifier.parse(GO_VKEY))


def test_checkpoint_body_layout() -> None:
    c = Checkpoint(cp.origin_for("acme"), 20852163, ROOT)
    assert c.body() == ("voxledger.local/acme\n20852163\n"
                        f"{base64.b64encode(ROOT).decode()}\n")
    assert cp.parse_checkpoint(c.body()) == c
    ext = Checkpoint("example.com/log", 0, ROOT, ("ext one", "ext two"))
    assert ext.body().endswith("\next one\next two\n")
    assert cp.parse_checkpoint(ext.body()) == ext


@untimed
@given(size=st.integers(min_value=0, max_value=2**64 - 1), root=st.binary(min_size=32, max_size=32),
       tenant=st.from_regex(r"[a-z0-9-]{1,63}", fullmatch=True))
def test_signed_checkpoint_round_trips(size: int, root: bytes, tenant: str) -> None:
    c = Checkpoint(cp.origin_for(tenant), size, root)
    note = cp.sign_checkpoint(c, key())
    verifier = Verifier.from_public_key(c.origin, key())
    assert cp.open_checkpoint(note, verifier) == c
    assert cp.open_checkpoint(note.encode(), Verifier.parse(verifier.vkey())) == c
    lines = note.split("\n")
    assert lines[3] == "" and lines[4].startswith(f"\u2014 {c.origin} ") and lines[5] == ""
    blob = base64.b64decode(lines[4].split(" ")[2])
    assert len(blob) == 68 and blob[:4] == cp.key_id(c.origin, verifier.public_key)


def test_key_id_is_the_spec_hash() -> None:
    import hashlib

    pub = Verifier.from_public_key("n", key()).public_key
    assert cp.key_id("n", pub) == hashlib.sha256(b"n\n\x01" + pub).digest()[:4]


@untimed
@given(data=st.data())
def test_any_changed_byte_of_a_signed_checkpoint_is_refused(data: st.DataObject) -> None:
    c = Checkpoint(cp.origin_for("t1"), 42, ROOT)
    note = cp.sign_checkpoint(c, key()).encode()
    verifier = Verifier.from_public_key(c.origin, key())
    i = data.draw(st.integers(min_value=0, max_value=len(note) - 1), label="byte")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    bad = bytearray(note)
    bad[i] ^= 1 << bit
    with pytest.raises(cp.NoteError):
        cp.open_checkpoint(bytes(bad), verifier)


def test_other_signers_are_ignored_but_the_trusted_one_is_required() -> None:
    c = Checkpoint(cp.origin_for("t1"), 7, ROOT)
    ours = cp.sign_checkpoint(c, key(1))
    witness_line = cp.sign_note(c.body(), "witness.example", key(2)).split("\n\n")[1]
    cosigned = ours + witness_line
    verifier = Verifier.from_public_key(c.origin, key(1))
    assert cp.open_checkpoint(cosigned, verifier) == c
    with pytest.raises(cp.UnknownSignerError):
        cp.open_checkpoint(cp.sign_checkpoint(c, key(3)), verifier)  # same name, other key
    with pytest.raises(cp.UnknownSignerError):
        cp.open_checkpoint(ours, Verifier.from_public_key("other.example/t1", key(1)))


def test_forged_signature_under_the_trusted_id_fails() -> None:
    c = Checkpoint(cp.origin_for("t1"), 7, ROOT)
    verifier = Verifier.from_public_key(c.origin, key(1))
    forged_blob = verifier.key_id + key(2).sign(c.body().encode())
    forged = f"{c.body()}\n\u2014 {c.origin} {base64.b64encode(forged_blob).decode()}\n"
    with pytest.raises(cp.BadSignatureError):
        cp.open_checkpoint(forged, verifier)


def test_a_checkpoint_for_another_origin_is_refused() -> None:
    c = Checkpoint(cp.origin_for("t2"), 7, ROOT)
    note = cp.sign_checkpoint(c, key(), key_name=cp.origin_for("t1"))
    verifier = Verifier.from_public_key(cp.origin_for("t1"), key())
    with pytest.raises(cp.CheckpointFormatError, match="origin"):
        cp.open_checkpoint(note, verifier)
    assert cp.open_checkpoint(note, verifier, origin=c.origin) == c


SIG = cp.sign_note("x\n", "k", key()).split("\n\n")[1]  # "— k <b64>\n"


@pytest.mark.parametrize(("note", "match"), [
    (b"\xff\xfe\n\n" + SIG.encode(), "UTF-8"),
    ("x\n" + SIG, "no blank line"),
    ("x\n\n", "no signature lines"),
    ("x\n\n" + SIG.rstrip("\n"), "end with a newline"),
    ("x\n\n" + SIG.replace("\u2014", "-"), "em dash"),
    ("x\n\n" + SIG.replace("\u2014 ", "\u2014  "), "'\u2014 <key name>"),
    ("x\n\n" + SIG.replace(" k ", " k+1 "), "key name"),
    ("x\r\n\n" + SIG, "control character"),
    ("x\n\n\u2014 k AAAA\n", "4-byte key id"),
    ("x\n\n\u2014 k AAAA!\n", "base64"),
    ("x\n\n\u2014 k AAAAAB==\n", "canonical"),
    ("x\n\n" + SIG * (cp.MAX_SIGNATURES + 1), "more than"),
])
def test_malformed_notes(note: str | bytes, match: str) -> None:
    with pytest.raises(cp.MalformedNoteError, match=match):
        cp.parse_note(note)


@pytest.mark.parametrize(("text", "match"), [
    ("o\n1\n", "origin, size and root"),
    (f"o\n1\n{base64.b64encode(ROOT).decode()}", "end with a newline"),
    (f"o\n01\n{base64.b64encode(ROOT).decode()}\n", "plain decimal"),
    (f"o\n+1\n{base64.b64encode(ROOT).decode()}\n", "plain decimal"),
    (f"o\n1 \n{base64.b64encode(ROOT).decode()}\n", "plain decimal"),
    (f"o\n{2**64}\n{base64.b64encode(ROOT).decode()}\n", "2\\^64"),
    ("o\n1\nAAAA\n", "32 bytes"),
    ("o\n1\nnot base64\n", "base64"),
    (f"\n1\n{base64.b64encode(ROOT).decode()}\n", "no empty lines"),
    (f"o\n1\n{base64.b64encode(ROOT).decode()}\n\next\n", "no empty lines"),
])
def test_malformed_checkpoint_bodies(text: str, match: str) -> None:
    with pytest.raises(cp.CheckpointFormatError, match=match):
        cp.parse_checkpoint(text)


def test_body_inside_a_valid_signature_must_still_be_a_checkpoint() -> None:
    verifier = Verifier.from_public_key("k", key())
    with pytest.raises(cp.CheckpointFormatError):
        cp.open_checkpoint(cp.sign_note("just a note\n", "k", key()), verifier)


@pytest.mark.parametrize("vkey", [
    "",
    "PeterNeumann+c74f20a3",
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # id mismatch
    "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
])
def test_malformed_vkeys(vkey: str) -> None:
    with pytest.raises(cp.VerifierKeyError):
        Verifier.parse(vkey)


@pytest.mark.parametrize("bad", [
    {"origin": ""}, {"size": -1}, {"size": 2**64}, {"root_hash": b"\x00" * 31},
    {"extensions": ("",)}, {"extensions": ("a\nb",)},
])
def test_checkpoint_refuses_impossible_values(bad: dict[str, object]) -> None:
    args: dict[str, object] = {"origin": "o", "size": 1, "root_hash": ROOT, **bad}
    with pytest.raises(cp.CheckpointFormatError):
        Checkpoint(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("tenant", ["", "a b", "a+b"])
def test_origin_must_be_a_key_name(tenant: str) -> None:
    with pytest.raises(cp.VerifierKeyError):
        cp.origin_for(tenant)
    with pytest.raises(cp.VerifierKeyError):
        cp.origin_for("t1", host="")
