"""Key handling: tenant key-encryption keys (KEK), per-session data keys (DEK), peppers, signing.

A :class:`KeyProvider` owns tenant secrets; production plugs in a KMS-backed provider with the same
interface. :class:`LocalKeyProvider` (development) derives every tenant secret from one master
secret in a 0600 keyring file with HKDF, so a tenant's KEK, pepper and checkpoint signing key are
independent and can be rotated by bumping ``version``.

Wrapped DEKs are ``version(1) || nonce(12) || AES-256-GCM(KEK, DEK, aad=tenant)``. Destroying a
session's wrapped DEK crypto-shreds everything encrypted under it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from services.platform.settings import Settings

KEYRING_VERSION = 1


class KeyError_(Exception):
    """A key is missing, unreadable or does not match what it protects."""


class KeyProvider(Protocol):
    def wrap_dek(self, tenant_id: str, dek: bytes) -> bytes: ...
    def unwrap_dek(self, tenant_id: str, wrapped: bytes) -> bytes: ...
    def pepper(self, tenant_id: str) -> bytes: ...
    def signing_key(self, tenant_id: str) -> Ed25519PrivateKey: ...


def new_dek() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(blob[:12], blob[12:], aad)


def subject_index(pepper: bytes, normalized_identifier: str) -> str:
    """HMAC-SHA256 index of a subject identifier: findable for erasure, not guessable."""
    return hmac.new(pepper, normalized_identifier.encode(), hashlib.sha256).hexdigest()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class LocalKeyProvider:
    def __init__(self, master: bytes, version: int = KEYRING_VERSION) -> None:
        if len(master) != 32:
            raise KeyError_("keyring master secret must be 32 bytes")
        self._master = master
        self._version = version

    @classmethod
    def from_file(cls, path: Path) -> LocalKeyProvider:
        try:
            data = json.loads(path.read_text())
            return cls(base64.b64decode(data["master"]), int(data.get("version", 1)))
        except FileNotFoundError:
            raise KeyError_(f"keyring {path} not found; run `voxledger up` or set "
                            "VOXLEDGER_KEY_FILE") from None
        except (ValueError, KeyError):
            raise KeyError_(f"keyring {path} is not a valid Voxledger keyring") from None

    @staticmethod
    def create_file(path: Path) -> bool:
        """Write a new keyring (mode 0600) unless one exists. Returns True when created."""
        if path.exists():
            return False
        from services.platform.secretfile import create_secret

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        body = json.dumps({"version": KEYRING_VERSION,
                           "master": base64.b64encode(secrets.token_bytes(32)).decode()})
        return create_secret(path, body)

    def _derive(self, purpose: str, tenant_id: str) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=f"voxledger/v{self._version}/{purpose}/{tenant_id}".encode(),
                    ).derive(self._master)

    def wrap_dek(self, tenant_id: str, dek: bytes) -> bytes:
        kek = self._derive("kek", tenant_id)
        return bytes([self._version]) + encrypt(kek, dek, tenant_id.encode())

    def unwrap_dek(self, tenant_id: str, wrapped: bytes) -> bytes:
        if not wrapped or wrapped[0] != self._version:
            raise KeyError_("wrapped key was made with another keyring version")
        try:
            return decrypt(self._derive("kek", tenant_id), wrapped[1:], tenant_id.encode())
        except Exception:
            raise KeyError_("wrapped key does not belong to this tenant or keyring") from None

    def pepper(self, tenant_id: str) -> bytes:
        return self._derive("pepper", tenant_id)

    def signing_key(self, tenant_id: str) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._derive("checkpoint-signing", tenant_id))


def key_provider(settings: Settings) -> KeyProvider:
    """The tenant key provider the settings name.

    ``key_provider = "local"`` is the development keyring file; ``environment = production``
    refuses it unless ``allow_local_keys_in_production`` says otherwise (one master secret on the
    host's disk is not how production keys are kept). Any other value is ``module:factory``, a
    callable taking the settings and returning a :class:`KeyProvider` (a KMS-backed one).
    """
    if settings.key_provider != "local":
        import importlib

        module, _, attr = settings.key_provider.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError):
            raise KeyError_(f"VOXLEDGER_KEY_PROVIDER: cannot import {settings.key_provider!r} "
                            "(expected module:factory)") from None
        provider: KeyProvider = factory(settings)
        return provider
    if settings.environment == "production" and not settings.allow_local_keys_in_production:
        raise KeyError_("environment=production refuses the local keyring file; set "
                        "VOXLEDGER_KEY_PROVIDER to a KMS-backed module:factory, or "
                        "VOXLEDGER_ALLOW_LOCAL_KEYS_IN_PRODUCTION=true to accept the risk")
    return LocalKeyProvider.from_file(settings.keyring_path)
