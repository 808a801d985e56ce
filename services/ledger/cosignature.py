"""C2SP ``tlog-cosignature`` (Ed25519, ``cosignature/v1``) and ``tlog-policy``: pure, no I/O.

A witness signs ``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint note text; the note
signature is ``key ID (4) || timestamp (8, big endian) || Ed25519 signature (64)`` with key ID
``SHA-256(name || "\\n" || 0x04 || public key)[:4]``. A policy file names trusted logs and
witnesses and the quorum of witnesses a checkpoint needs.

Errors: :class:`PolicyError` (a policy file that does not parse); cosignatures that do not verify
are simply not counted (signed-note: unknown or bad signatures are ignored, the quorum decides).
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.ledger.checkpoint import (
    ALG_ED25519,
    SIG_PREFIX,
    Note,
    Verifier,
    VerifierKeyError,
    check_key_name,
)
from services.platform.keys import public_key_bytes

ALG_COSIGNATURE_V1 = 0x04
_MAX_TIMESTAMP = 2**63 - 1


class PolicyError(ValueError):
    """A tlog-policy file is malformed; the message names the line."""


def witness_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1])
                          + public_key).digest()[:4]


@dataclass(frozen=True)
class WitnessKey:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_public_key(cls, name: str, key: bytes | Ed25519PublicKey | Ed25519PrivateKey
                        ) -> WitnessKey:
        raw = key if isinstance(key, bytes) else public_key_bytes(key)
        return cls(check_key_name(name), witness_key_id(name, raw), raw)

    @classmethod
    def parse(cls, vkey: str) -> WitnessKey:
        name, hex_id, raw = _split_vkey(vkey, ALG_COSIGNATURE_V1)
        key = cls(name, witness_key_id(name, raw), raw)
        if key.key_id.hex() != hex_id:
            raise VerifierKeyError("vkey key id does not match its name and key")
        return key

    def vkey(self) -> str:
        b64 = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, text: str, blob: bytes) -> int | None:
        """The cosignature's timestamp when ``blob`` (timestamp || signature) verifies."""
        if len(blob) != 72:
            return None
        (timestamp,) = struct.unpack(">Q", blob[:8])
        if timestamp > _MAX_TIMESTAMP:
            return None
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                blob[8:], cosigned_message(text, timestamp))
        except InvalidSignature:
            return None
        return int(timestamp)


def _split_vkey(vkey: str, alg: int) -> tuple[str, str, bytes]:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise VerifierKeyError("a vkey is <name>+<8 hex key id>+<base64 key>")
    check_key_name(parts[0])
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except ValueError:
        raise VerifierKeyError("vkey key is not base64") from None
    if len(raw) != 33 or raw[0] != alg:
        raise VerifierKeyError(f"vkey must hold type 0x{alg:02x} and a 32-byte Ed25519 key")
    return parts[0], parts[1], raw[1:]


def vkey_type(vkey: str) -> int:
    """The signature type byte of a vkey (0x01 log key, 0x04 cosigner), or -1 if unreadable."""
    try:
        raw = base64.b64decode(vkey.strip().split("+", 2)[2], validate=True)
    except (ValueError, IndexError):
        return -1
    return raw[0] if raw else -1


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """One signature line (with newline) cosigning the checkpoint note ``text``."""
    check_key_name(name)
    blob = (witness_key_id(name, public_key_bytes(key)) + struct.pack(">Q", timestamp)
            + key.sign(cosigned_message(text, timestamp)))
    return f"{SIG_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def cosigners(note: Note, witnesses: dict[str, WitnessKey]) -> dict[str, int]:
    """Policy names of the witnesses whose valid cosignature ``note`` carries → timestamp."""
    out: dict[str, int] = {}
    for policy_name, wk in witnesses.items():
        for sig in note.signatures:
            if (sig.name, sig.key_id) == (wk.name, wk.key_id):
                ts = wk.verify(note.text, sig.signature)
                if ts is not None:
                    out[policy_name] = ts
                break
    return out


@dataclass
class Policy:
    """A parsed C2SP tlog-policy: logs, witnesses by policy name, groups and the quorum."""

    logs: list[Verifier] = field(default_factory=list)
    witnesses: dict[str, WitnessKey] = field(default_factory=dict)
    groups: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    quorum: str = "none"

    def satisfied(self, cosigned: set[str], name: str | None = None) -> bool:
        name = self.quorum if name is None else name
        if name == "none":
            return True
        if name in self.witnesses:
            return name in cosigned
        k, members = self.groups[name]
        return sum(self.satisfied(cosigned, m) for m in members) >= k


def parse_policy(text: str) -> Policy:
    policy = Policy()
    quorum: str | None = None
    for n, raw in enumerate(text.split("\n"), 1):
        if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", raw):
            raise PolicyError(f"line {n}: control character")
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        try:
            quorum = _policy_line(policy, words, quorum)
        except (VerifierKeyError, ValueError) as exc:
            raise PolicyError(f"line {n}: {exc}") from None
    if quorum is None:
        raise PolicyError("policy has no quorum line")
    policy.quorum = quorum
    return policy


def _policy_line(policy: Policy, words: list[str], quorum: str | None) -> str | None:
    kind = words[0]
    defined = set(policy.witnesses) | set(policy.groups)
    if kind == "log" and len(words) in (2, 3):
        name, _, raw = _split_vkey(words[1], ALG_ED25519)
        if any(v.public_key == raw for v in policy.logs):
            raise PolicyError("duplicate log key")
        policy.logs.append(Verifier.parse(words[1]))
    elif kind == "witness" and len(words) in (3, 4):
        if words[1] in defined or words[1] == "none":
            raise PolicyError(f"name {words[1]!r} defined twice")
        wk = WitnessKey.parse(words[2])
        if any(w.public_key == wk.public_key for w in policy.witnesses.values()):
            raise PolicyError("duplicate witness key")
        policy.witnesses[words[1]] = wk
    elif kind == "group" and len(words) >= 4:
        name, k_word, members = words[1], words[2], words[3:]
        if name in defined or name == "none":
            raise PolicyError(f"name {name!r} defined twice")
        if any(m not in defined for m in members) or len(set(members)) != len(members):
            raise PolicyError("group members must be distinct names defined earlier")
        k = {"all": len(members), "any": 1}.get(k_word)
        if k is None:
            if not re.fullmatch(r"[1-9][0-9]*", k_word) or int(k_word) > len(members):
                raise PolicyError("group threshold must be all, any or 1..n")
            k = int(k_word)
        policy.groups[name] = (k, members)
    elif kind == "quorum" and len(words) == 2:
        if quorum is not None:
            raise PolicyError("more than one quorum line")
        if words[1] != "none" and words[1] not in defined:
            raise PolicyError(f"quorum {words[1]!r} is not defined earlier")
        return words[1]
    else:
        raise PolicyError(f"unknown or malformed line {' '.join(words[:2])!r}")
    return quorum
