"""``voxledger up``'s part of the signing identity: create it, migrating an existing stack.

A stack from before issue 16 signed checkpoints with a key derived from the data keyring
(``HKDF(master, "voxledger/v<version>/checkpoint-signing/<tenant>")``). On first creation of the
separate identity, each existing tenant's legacy *public* key is published with the tenant's tree
size at that moment, so old checkpoints keep verifying and the legacy key vouches for nothing
newer. The derivation is repeated here (not called from keys.py) so the keyring's API can change
without breaking the migration.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import text

from services.platform.keys import public_key_bytes
from services.platform.settings import Settings
from services.platform.signing import ensure_identity


def legacy_public_key(master: bytes, version: int, tenant: str) -> bytes:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"voxledger/v{version}/checkpoint-signing/{tenant}".encode()).derive(master)
    return public_key_bytes(Ed25519PrivateKey.from_private_bytes(seed))


def ensure_signing_identity(settings: Settings, progress: Callable[[str], None]) -> None:
    def legacy() -> Iterator[tuple[str, bytes, int]]:
        try:
            ring = json.loads(settings.keyring_path.read_text())
            master, version = base64.b64decode(ring["master"]), int(ring.get("version", 1))
        except (OSError, ValueError, KeyError):
            return  # no legacy keyring: nothing was ever signed with it
        from services.platform.db import make_engine

        engine = make_engine(settings)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT tenant_id, coalesce(max(size), 0) FROM ledger_checkpoints "
                    "GROUP BY tenant_id ORDER BY tenant_id")).all()
        finally:
            engine.dispose()
        for tenant, size in rows:
            yield tenant, legacy_public_key(master, version, tenant), int(size)

    ensure_identity(settings.signing_keys_dir, legacy, progress)
