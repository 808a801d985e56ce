"""Signed checkpoints: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note`` form, Ed25519.

Pure functions; no I/O. A checkpoint note reads::

    voxledger.local/<tenant>\\n          origin (also the key name)
    <tree size, decimal>\\n
    <base64 RFC 9162 root hash>\\n
    [extension lines\\n]
    \\n
    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature)>\\n

Verifiers get the public key as a vkey string ``<name>+<hex key ID>+<base64(0x01 || pubkey)>``
(the golang.org/x/mod/sumdb/note encoding that C2SP signed-note tooling shares).

Errors::

    NoteError                   anything this module refuses
    ├── MalformedNoteError      not a signed note (encoding, control characters, layout, a
    │                           signature line that is not ``— name base64``)
    ├── CheckpointFormatError   the note text is not a tlog-checkpoint body for this origin
    ├── VerifierKeyError        a vkey string or key name is malformed
    └── SignatureError          the note is not signed by the trusted key
        ├── UnknownSignerError  no signature line from the trusted key (name and ID)
        └── BadSignatureError   the trusted key's signature does not verify
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.platform.keys import public_key_bytes

ALG_ED25519 = 0x01  # signed-note §"Signature types"
SIG_PREFIX = "\u2014 "  # em dash, space (signed-note §Format)
DEFAULT_ORIGIN_HOST = "voxledger.local"
MAX_SIGNATURES = 100  # signed-note: verifiers SHOULD cap, MUST accept at least 16
HASH_SIZE = 32
_MAX_TREE_SIZE = 2**64 - 1
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")  # tlog-checkpoint: decimal, no leading zeroes
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(Exception):
    """Base of every error raised by this module."""


class MalformedNoteError(NoteError, ValueError):
    """The input is not a well-formed signed note."""


class CheckpointFormatError(NoteError, ValueError):
    """The note text is not a valid tlog-checkpoint body (or names another origin)."""


class VerifierKeyError(NoteError, ValueError):
    """A vkey string or key name is malformed."""


class SignatureError(NoteError):
    """The note is not signed by the trusted key."""


class UnknownSignerError(SignatureError):
    """No signature line comes from the trusted key."""


class BadSignatureError(SignatureError):
    """A signature line from the trusted key does not verify."""


def check_key_name(name: str) -> str:
    # signed-note §Format: non-empty, no Unicode spaces, no '+' (the vkey field separator).
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL_RE.search(name):
        raise VerifierKeyError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def origin_for(tenant: str, host: str = DEFAULT_ORIGIN_HOST) -> str:
    """The log identity of a tenant's ledger; it is also the checkpoint key name."""
    if not tenant or not host:
        raise VerifierKeyError("origin needs a host and a tenant")
    return check_key_name(f"{host}/{tenant}")


def key_id(name: str, public_key: bytes) -> bytes:
    """signed-note §Ed25519: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _b64decode(text: str, what: str, error: type[NoteError]) -> bytes:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise error(f"{what} is not valid base64") from None
    # Reject non-canonical encodings so one signature has exactly one textual form.
    if base64.b64encode(raw).decode() != text:
        raise error(f"{what} is not canonical base64")
    return raw


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 note key: name, 4-byte key ID and 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, key: bytes | Ed25519PublicKey | Ed25519PrivateKey,
                        ) -> Verifier:
        raw = key if isinstance(key, bytes) else public_key_bytes(key)
        if len(raw) != 32:
            raise VerifierKeyError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
        return cls(check_key_name(name), key_id(name, raw), raw)

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || pubkey)>``, checking the ID matches."""
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise VerifierKeyError("a vkey is <name>+<hex key id>+<base64 key>")
        name, hex_id, b64 = parts
        check_key_name(name)
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
            raise VerifierKeyError("vkey key id must be 8 lowercase hex digits")
        raw = _b64decode(b64, "vkey key", VerifierKeyError)
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise VerifierKeyError("vkey key must be 0x01 || 32-byte Ed25519 public key")
        verifier = cls(name, key_id(name, raw[1:]), raw[1:])
        if verifier.key_id.hex() != hex_id:
            raise VerifierKeyError("vkey key id does not match its name and key")
        return verifier

    def vkey(self) -> str:
        key = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{key}"

    def verify(self, text: str, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text.encode())
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    if _CONTROL_RE.search(text):
        raise MalformedNoteError("note contains an ASCII control character other than newline")


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """Sign ``text`` (which ends in a newline) as ``name``; returns the whole note."""
    _check_text(text)
    check_key_name(name)
    blob = key_id(name, public_key_bytes(key)) + key.sign(text.encode())
    return f"{text}\n{SIG_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def parse_note(note: str | bytes) -> Note:
    """Split a signed note into text and signature lines, checking the syntax only."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("note is not valid UTF-8") from None
    if _CONTROL_RE.search(note):
        raise MalformedNoteError("note contains an ASCII control character other than newline")
    # The text ends at the last blank line (signed-note §Format); signature lines are never empty.
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, sig_block = note[:split + 1], note[split + 2:]
    if not sig_block:
        raise MalformedNoteError("note has no signature lines")
    if not sig_block.endswith("\n"):
        raise MalformedNoteError("note must end with a newline after its last signature")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has more than {MAX_SIGNATURES} signatures")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIG_PREFIX):
        raise MalformedNoteError("signature line must start with an em dash and a space")
    fields = line[len(SIG_PREFIX):].split(" ")
    if len(fields) != 2:
        raise MalformedNoteError("signature line must be '— <key name> <base64 signature>'")
    name, b64 = fields
    try:
        check_key_name(name)
    except VerifierKeyError as exc:
        raise MalformedNoteError(str(exc)) from None
    blob = _b64decode(b64, "signature", MalformedNoteError)
    if len(blob) < 5:
        raise MalformedNoteError("signature must hold a 4-byte key id and a signature")
    return NoteSignature(name, blob[:4], blob[4:])


def open_note(note: str | bytes, verifier: Verifier) -> Note:
    """Parse ``note`` and check the trusted key signed it; other signers are ignored."""
    parsed = parse_note(note)
    for sig in parsed.signatures:
        if (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
            continue  # signed-note: ignore unknown keys (witnesses, rotated keys)
        # The first line from the trusted key decides: a failure rejects the whole note.
        if not verifier.verify(parsed.text, sig.signature):
            raise BadSignatureError(f"signature by {verifier.name} does not verify")
        return parsed
    raise UnknownSignerError(f"note carries no signature by {verifier.name} "
                             f"(key id {verifier.key_id.hex()})")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and RFC 9162 root hash, plus opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointFormatError("checkpoint origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise CheckpointFormatError(f"tree size {self.size} is outside 0..2^64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointFormatError(f"root hash must be {HASH_SIZE} bytes")
        if any(not e or "\n" in e for e in self.extensions):
            raise CheckpointFormatError("extension lines must be non-empty single lines")

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode(),
                 *self.extensions]
        return "".join(f"{line}\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a tlog-checkpoint note text (C2SP tlog-checkpoint §Note text)."""
    if not text.endswith("\n"):
        raise CheckpointFormatError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise CheckpointFormatError("checkpoint needs origin, size and root hash, no empty lines")
    origin, size_line, root_line, *extensions = lines
    if not _SIZE_RE.fullmatch(size_line):
        raise CheckpointFormatError(f"tree size {size_line!r} is not a plain decimal number")
    root_hash = _b64decode(root_line, "root hash", CheckpointFormatError)
    return Checkpoint(origin, int(size_line), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, key: Ed25519PrivateKey,
                    key_name: str | None = None) -> str:
    """The signed checkpoint note; the key name defaults to the origin (tlog-checkpoint)."""
    return sign_note(checkpoint.body(), key_name or checkpoint.origin, key)


def open_checkpoint(note: str | bytes, verifier: Verifier,
                    origin: str | None = None) -> Checkpoint:
    """Verify the signature, then parse the body; the origin must be ``origin`` (default: the
    key name), so a checkpoint of one tenant's log never passes for another's."""
    parsed = open_note(note, verifier)
    checkpoint = parse_checkpoint(parsed.text)
    want = verifier.name if origin is None else origin
    if checkpoint.origin != want:
        raise CheckpointFormatError(f"checkpoint origin {checkpoint.origin!r} is not {want!r}")
    return checkpoint
