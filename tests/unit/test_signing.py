"""The checkpoint signing identity (issue 16): its own 0600 file, rotation keeping old public
keys, legacy keys bounded, and no process but the sealer's composition able to load it."""

from __future__ import annotations

import ast
import stat
from pathlib import Path

import pytest

from services.ledger.checkpoint import Checkpoint, NoteError, origin_for, sign_checkpoint
from services.ledger.trust import Trust
from services.platform.signing import (
    PublicKeys,
    SigningKeyError,
    ensure_identity,
    load_signer,
    rotate,
)
from services.platform.signing_setup import legacy_public_key

REPO = Path(__file__).resolve().parents[2]
# The only modules allowed to open the private signing key (the sealer's composition).
ALLOWED = {"services/erasure/issue.py",  # erasure certificates: the log identity signs
           "services/ledger/sealer.py", "services/platform/signing.py"}


def test_identity_is_private_rotates_and_keeps_old_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert ensure_identity(keys, lambda: []) is True
    assert ensure_identity(keys, lambda: []) is False  # never replaced in place
    assert stat.S_IMODE((keys / "signing.json").stat().st_mode) == 0o600
    first = load_signer(keys)
    note = sign_checkpoint(Checkpoint(origin_for("acme"), 5, bytes(32)), first.key)
    assert rotate(keys) == 2
    second = load_signer(keys)
    assert second.version == 2 and second.key != first.key
    assert stat.S_IMODE((keys / "signing.json").stat().st_mode) == 0o600
    trust = Trust.local(PublicKeys.load(keys))
    assert trust.open(note, "acme").size == 5  # old checkpoints still verify
    newer = sign_checkpoint(Checkpoint(origin_for("acme"), 6, bytes(32)), second.key)
    assert trust.open(newer, "acme").size == 6
    with pytest.raises(NoteError):
        trust.open(note, "other")  # another tenant's origin


def test_legacy_key_vouches_only_up_to_its_migration_size(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    master = bytes(range(32))
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"voxledger/v1/checkpoint-signing/acme").derive(master)
    legacy = Ed25519PrivateKey.from_private_bytes(seed)
    keys = tmp_path / "keys"
    ensure_identity(keys, lambda: [("acme", legacy_public_key(master, 1, "acme"), 10)])
    trust = Trust.local(PublicKeys.load(keys))
    old = sign_checkpoint(Checkpoint(origin_for("acme"), 10, bytes(32)), legacy)
    assert trust.open(old, "acme").size == 10
    forged = sign_checkpoint(Checkpoint(origin_for("acme"), 11, bytes(32)), legacy)
    with pytest.raises(NoteError, match="legacy key"):
        trust.open(forged, "acme")


def test_missing_identity_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="voxledger up"):
        load_signer(tmp_path)


def test_only_the_sealer_composition_loads_the_signing_key() -> None:
    users = set()
    for path in (REPO / "services").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.ImportFrom)
                     and node.module == "services.platform.signing" else [])
            if "load_signer" in names or (isinstance(node, ast.Name) and node.id == "load_signer"
                                          and path.name != "signing.py"):
                users.add(str(path.relative_to(REPO)))
    assert users <= ALLOWED, users
    assert "services/ledger/sealer.py" in users
