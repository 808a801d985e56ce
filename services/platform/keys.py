"""Key handling: tenant key-encryption keys (KEK), per-session data keys (DEK), peppers, signing.

A :class:`KeyProvider` owns tenant secrets; production plugs in a KMS-backed provider with the same
interface. :class:`LocalKeyProvider` (development) keeps a root secret in a 0600 keyring file.

Keys that can die one at a time (issue 14):

- each tenant has its own **random** KEK, stored wrapped by the root key (AES-256-GCM, the tenant
  and KEK version as associated data) in ``<keyring dir>/tenants/<tenant>.json`` (0600, created
  atomically). :meth:`LocalKeyProvider.destroy_tenant_kek` deletes that file: every DEK of the
  tenant becomes unreadable, and no other tenant is touched;
- the tenant keyring is versioned: :meth:`~LocalKeyProvider.rotate_tenant_kek` adds a version and
  keeps the old ones for unwrapping;
- wrapped DEKs (format 2) are ``0x02 || kek_version(2) || nonce(12) || AES-256-GCM(KEK, DEK,
  aad="voxledger/dek/v2/<tenant>/<session>")``: a wrapped key copied to another session or tenant
  does not unwrap. Format 1 (``0x01 || nonce || GCM(HKDF-derived KEK, DEK, aad=tenant)``) from
  keyrings made before still unwraps, until :func:`rewrap_dek` (``voxledger keys rewrap``)
  moves it to format 2 or the tenant's KEK is destroyed.

Peppers and checkpoint signing keys stay derived from the root secret with HKDF (the signing key
moves to its own module with issue 16); a destroyed tenant keeps its signing key so its ledger
still verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from services.platform.settings import Settings

KEYRING_VERSION = 1
LEGACY_FORMAT = 1
DEK_FORMAT = 2


class KeyError_(Exception):
    """A key is missing, unreadable or does not match what it protects."""


class KeyProvider(Protocol):
    def wrap_dek(self, tenant_id: str, dek: bytes, session_id: str) -> bytes: ...
    def unwrap_dek(self, tenant_id: str, wrapped: bytes, session_id: str) -> bytes: ...
    def pepper(self, tenant_id: str) -> bytes: ...
    def signing_key(self, tenant_id: str) -> Ed25519PrivateKey: ...
    def destroy_tenant_kek(self, tenant_id: str) -> bool: ...


def new_dek() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt(key: bytes | AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a random 96-bit nonce (prefixed). ``key`` may be a cipher already built
    from the key (the sealer encrypts every entry of a session under one: building it per call
    is most of the cost of a small payload)."""
    nonce = os.urandom(12)
    return nonce + (key if isinstance(key, AESGCM) else AESGCM(key)).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes | AESGCM, blob: bytes, aad: bytes) -> bytes:
    """``key`` may be a cipher already built from the key, as for :func:`encrypt`."""
    return (key if isinstance(key, AESGCM) else AESGCM(key)).decrypt(blob[:12], blob[12:], aad)


def subject_index(pepper: bytes, normalized_identifier: str) -> str:
    """HMAC-SHA256 index of a subject identifier: findable for erasure, not guessable."""
    return hmac.new(pepper, normalized_identifier.encode(), hashlib.sha256).hexdigest()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def dek_aad(tenant_id: str, session_id: str) -> bytes:
    return f"voxledger/dek/v2/{tenant_id}/{session_id}".encode()


def _kek_aad(tenant_id: str, version: int) -> bytes:
    return f"voxledger/kek/v1/{tenant_id}/{version}".encode()


def _write_private(path: Path, body: str) -> bool:
    """Create ``path`` (0600) with ``body`` atomically; False when it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # atomic and exclusive: a concurrent creator loses cleanly
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


class LocalKeyProvider:
    def __init__(self, master: bytes, version: int = KEYRING_VERSION,
                 tenants_dir: Path | None = None) -> None:
        if len(master) != 32:
            raise KeyError_("keyring master secret must be 32 bytes")
        self._master = master
        self._version = version
        # Without a directory (unit tests) tenant KEKs live in memory only.
        self._dir = tenants_dir
        self._memory: dict[str, dict[str, Any]] = {}
        self._cache: dict[tuple[str, int, int], tuple[int, dict[int, bytes]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path) -> LocalKeyProvider:
        try:
            data = json.loads(path.read_text())
            return cls(base64.b64decode(data["master"]), int(data.get("version", 1)),
                       path.parent / "tenants")
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

    # -- tenant KEKs -------------------------------------------------------------------------

    def _root(self) -> bytes:
        return self._derive("root-wrap", "")

    def _path(self, tenant_id: str) -> Path:
        assert self._dir is not None
        return self._dir / f"{tenant_id}.json"

    def _load_ring(self, tenant_id: str) -> dict[str, Any] | None:
        if self._dir is None:
            return self._memory.get(tenant_id)
        try:
            return dict(json.loads(self._path(tenant_id).read_text()))
        except FileNotFoundError:
            return None

    def _store_ring(self, tenant_id: str, ring: dict[str, Any], *, replace: bool) -> bool:
        if self._dir is None:
            if tenant_id in self._memory and not replace:
                return False
            self._memory[tenant_id] = ring
            return True
        path = self._path(tenant_id)
        if replace:
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(json.dumps(ring))
            os.replace(tmp, path)
            return True
        return _write_private(path, json.dumps(ring))

    def _new_version(self, tenant_id: str, ring: dict[str, Any], version: int) -> None:
        kek = secrets.token_bytes(32)
        blob = encrypt(self._root(), kek, _kek_aad(tenant_id, version))
        ring["keks"][str(version)] = base64.b64encode(blob).decode()
        ring["current"] = version

    def _stamp(self, tenant_id: str) -> tuple[int, int] | None:
        if self._dir is None:
            return None
        try:
            st = self._path(tenant_id).stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def _keks(self, tenant_id: str, *, create: bool) -> tuple[int, dict[int, bytes]]:
        # One stat per call: a KEK destroyed or rotated by another process is seen at once.
        stamp = self._stamp(tenant_id)
        cached = self._cache.get((tenant_id, *stamp)) if stamp else None
        if cached is not None:
            return cached
        with self._lock:
            ring = self._load_ring(tenant_id)
            if ring is None:
                if not create:
                    raise KeyError_("the tenant's key-encryption key is gone (destroyed or never "
                                    "made); its data keys cannot be unwrapped")
                ring = {"tenant": tenant_id, "current": 0, "keks": {}}
                self._new_version(tenant_id, ring, 1)
                if not self._store_ring(tenant_id, ring, replace=False):
                    ring = self._load_ring(tenant_id)  # another process made it first
                    assert ring is not None
            keks: dict[int, bytes] = {}
            for v, blob in ring["keks"].items():
                try:
                    keks[int(v)] = decrypt(self._root(), base64.b64decode(blob),
                                           _kek_aad(tenant_id, int(v)))
                except Exception:
                    raise KeyError_("a tenant key-encryption key does not open with this "
                                    "keyring's root key") from None
            result = int(ring["current"]), keks
            stamp = self._stamp(tenant_id)
            if stamp:
                self._cache = {k: v for k, v in self._cache.items() if k[0] != tenant_id}
                self._cache[(tenant_id, *stamp)] = result
            return result

    def rotate_tenant_kek(self, tenant_id: str) -> int:
        """Add a new KEK version for new DEKs; old versions stay for unwrapping."""
        self._keks(tenant_id, create=True)
        with self._lock:
            ring = self._load_ring(tenant_id)
            assert ring is not None
            self._new_version(tenant_id, ring, int(ring["current"]) + 1)
            self._store_ring(tenant_id, ring, replace=True)
            return int(ring["current"])

    def destroy_tenant_kek(self, tenant_id: str) -> bool:
        """Shred the tenant: delete its KEK (every version). True when there was one."""
        with self._lock:
            if self._dir is None:
                return self._memory.pop(tenant_id, None) is not None
            path = self._path(tenant_id)
            try:
                size = path.stat().st_size
                with open(path, "r+b") as fh:  # overwrite before unlink (best effort on SSDs)
                    fh.write(secrets.token_bytes(size))
                    fh.flush()
                    os.fsync(fh.fileno())
                path.unlink()
            except FileNotFoundError:
                return False
            # Format-1 keys were derived from the root: refuse them for a destroyed tenant.
            _write_private(self._dir / f"{tenant_id}.destroyed", "{}")
            return True

    def _destroyed(self, tenant_id: str) -> bool:
        return self._dir is not None and (self._dir / f"{tenant_id}.destroyed").exists()

    # -- data keys ---------------------------------------------------------------------------

    def wrap_dek(self, tenant_id: str, dek: bytes, session_id: str) -> bytes:
        version, keks = self._keks(tenant_id, create=True)
        return (bytes([DEK_FORMAT]) + version.to_bytes(2, "big")
                + encrypt(keks[version], dek, dek_aad(tenant_id, session_id)))

    def unwrap_dek(self, tenant_id: str, wrapped: bytes, session_id: str) -> bytes:
        if not wrapped:
            raise KeyError_("empty wrapped key")
        if wrapped[0] == LEGACY_FORMAT:
            if self._destroyed(tenant_id):
                raise KeyError_("the tenant's keys were destroyed")
            try:
                return decrypt(self._derive("kek", tenant_id), wrapped[1:], tenant_id.encode())
            except Exception:
                raise KeyError_("wrapped key does not belong to this tenant or keyring") from None
        if wrapped[0] != DEK_FORMAT or len(wrapped) < 3:
            raise KeyError_("wrapped key has an unknown format")
        _, keks = self._keks(tenant_id, create=False)
        kek = keks.get(int.from_bytes(wrapped[1:3], "big"))
        if kek is None:
            raise KeyError_("wrapped key names a KEK version this tenant no longer has")
        try:
            return decrypt(kek, wrapped[3:], dek_aad(tenant_id, session_id))
        except Exception:
            raise KeyError_("wrapped key does not belong to this tenant and session") from None

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


def needs_rewrap(wrapped: bytes, current_version: int | None = None) -> bool:
    if not wrapped or wrapped[0] != DEK_FORMAT:
        return True
    return current_version is not None and int.from_bytes(wrapped[1:3], "big") != current_version


def rewrap_dek(keys: KeyProvider, tenant_id: str, session_id: str, wrapped: bytes) -> bytes:
    """The same DEK under the tenant's current KEK with tenant+session AAD (the upgrade path)."""
    return keys.wrap_dek(tenant_id, keys.unwrap_dek(tenant_id, wrapped, session_id), session_id)
