"""The checkpoint signing identity: an Ed25519 key kept apart from the data keys (DESIGN.md "Keys").

Two files under ``<home>/keys``:

``signing.json`` (mode 0600, created atomically)
    the private seeds, one per version, and which version signs now. Only the sealer's
    composition calls :func:`load_signer`; audio, redaction, transcripts and CLI reads never open
    it (a unit test enforces that no other module imports it), so a deployment mounts this file
    into the sealer alone.
``signing.pub.json`` (mode 0644)
    every public key ever used, so old checkpoints keep verifying after a rotation, plus the
    *legacy* keys of a stack that signed with the keyring-derived key before this identity
    existed, each bounded by the tree size it had at migration: a legacy key is derivable from the
    data keyring, so it must never vouch for a checkpoint past that size.

One key signs every tenant's log; each tenant's log has its own key name (its origin), so the
signed-note key IDs differ per tenant. Errors: :class:`SigningKeyError`.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.platform.keys import public_key_bytes

SIGNING_FILE = "signing.json"
PUBLIC_FILE = "signing.pub.json"
FORMAT = 1


class SigningKeyError(Exception):
    """The signing identity is missing, unreadable or malformed; the message says what to do."""


def signing_paths(keys_dir: Path) -> tuple[Path, Path]:
    return keys_dir / SIGNING_FILE, keys_dir / PUBLIC_FILE


def write_atomic(path: Path, body: str, mode: int) -> None:
    """Write ``body`` to ``path`` with ``mode`` from the first byte on (temp file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class LegacyKey:
    """A key derived from the data keyring before migration, trusted only up to ``max_size``."""

    public_key: bytes
    max_size: int


@dataclass
class PublicKeys:
    """What verifiers need: every signing public key by version, and per-tenant legacy keys."""

    keys: dict[int, bytes] = field(default_factory=dict)
    current: int = 0
    legacy: dict[str, LegacyKey] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT, "current": self.current,
            "keys": [{"version": v, "public_key": base64.b64encode(k).decode()}
                     for v, k in sorted(self.keys.items())],
            "legacy": {t: {"public_key": base64.b64encode(k.public_key).decode(),
                           "max_size": k.max_size} for t, k in sorted(self.legacy.items())},
        }, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, where: Path) -> PublicKeys:
        try:
            data = json.loads(text)
            keys = {int(k["version"]): _key(k["public_key"]) for k in data["keys"]}
            legacy = {str(t): LegacyKey(_key(v["public_key"]), int(v["max_size"]))
                      for t, v in data.get("legacy", {}).items()}
            return cls(keys, int(data["current"]), legacy)
        except (ValueError, KeyError, TypeError):
            raise SigningKeyError(f"{where} is not a valid signing public-key file") from None

    @classmethod
    def load(cls, keys_dir: Path) -> PublicKeys:
        path = signing_paths(keys_dir)[1]
        try:
            return cls.from_json(path.read_text(), path)
        except FileNotFoundError:
            raise SigningKeyError(f"{path} not found; run `voxledger up` to create the "
                                  "checkpoint signing identity") from None


def _key(b64: str) -> bytes:
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 32:
        raise ValueError("Ed25519 keys are 32 bytes")
    return raw


@dataclass(frozen=True)
class Signer:
    """The current signing key and its version (held by the sealer only)."""

    version: int
    key: Ed25519PrivateKey

    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()


def _read_private(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise SigningKeyError(f"{path} not found; run `voxledger up` to create the checkpoint "
                              "signing identity") from None
    except ValueError:
        raise SigningKeyError(f"{path} is not a valid signing key file") from None
    return data


def load_signer(keys_dir: Path) -> Signer:
    """The sealer's key. Only the sealer's composition may call this (see module docstring)."""
    path = signing_paths(keys_dir)[0]
    data = _read_private(path)
    try:
        current = int(data["current"])
        seed = next(base64.b64decode(k["seed"]) for k in data["keys"]
                    if int(k["version"]) == current)
        return Signer(current, Ed25519PrivateKey.from_private_bytes(seed))
    except (KeyError, ValueError, StopIteration, TypeError):
        raise SigningKeyError(f"{path} has no usable current signing key") from None


def _new_version(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    version = max([int(k["version"]) for k in data.get("keys", [])], default=0) + 1
    data.setdefault("keys", []).append({
        "version": version, "seed": base64.b64encode(secrets.token_bytes(32)).decode(),
        "created_at": now.isoformat()})
    data["current"] = version
    data["format"] = FORMAT
    return data


def _publish(keys_dir: Path, data: dict[str, Any], legacy: dict[str, LegacyKey]) -> PublicKeys:
    pub = PublicKeys(current=int(data["current"]), legacy=legacy)
    for k in data["keys"]:
        seed = base64.b64decode(k["seed"])
        pub.keys[int(k["version"])] = public_key_bytes(Ed25519PrivateKey.from_private_bytes(seed))
    write_atomic(signing_paths(keys_dir)[1], pub.to_json(), 0o644)
    return pub


def ensure_identity(keys_dir: Path, legacy_tenants: Callable[[], Iterable[tuple[str, bytes, int]]],
                    progress: Callable[[str], None] = lambda _: None) -> bool:
    """Create the identity unless it exists; True when created.

    ``legacy_tenants`` yields ``(tenant, legacy public key, tree size)`` for every tenant whose
    checkpoints were signed before this identity existed; it is called only on creation, so the
    legacy bound is the tree size at migration.
    """
    private, public = signing_paths(keys_dir)
    if private.exists():
        if not public.exists():  # a lost public file is rebuilt from the seeds (no legacy bound)
            _publish(keys_dir, _read_private(private), {})
        return False
    legacy = {t: LegacyKey(pk, size) for t, pk, size in legacy_tenants()}
    data = _new_version({}, datetime.now(UTC))
    # Public file first: a crash between the two leaves no private key whose public half is lost.
    _publish(keys_dir, data, legacy)
    write_atomic(private, json.dumps(data, indent=2) + "\n", 0o600)
    progress(f"keys: generated checkpoint signing identity {private} (mode 0600)"
             + (f"; {len(legacy)} tenant(s) keep their legacy key for old checkpoints"
                if legacy else ""))
    return True


def rotate(keys_dir: Path) -> int:
    """Add a new signing version and make it current; old public keys stay published."""
    private = signing_paths(keys_dir)[0]
    data = _new_version(_read_private(private), datetime.now(UTC))
    legacy = PublicKeys.load(keys_dir).legacy
    _publish(keys_dir, data, legacy)
    write_atomic(private, json.dumps(data, indent=2) + "\n", 0o600)
    return int(data["current"])
