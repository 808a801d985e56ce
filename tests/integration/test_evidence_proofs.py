"""Proofs on demand against the real ledger (issue 16): produced proofs round-trip through
``proof check``, pass conformance-style vectors generated from our own log (and their mutations
fail), and ``verify --since`` checks only what came after a checkpoint the auditor kept."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.evidence import verify_bundle
from services.ledger import merkle
from services.platform.db import make_async_engine
from services.platform.settings import Settings
from tests.conftest import REPO
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


def _vox(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=600)


async def _seal(settings: Settings, tenant: str, sessions: list[str]) -> TenantSealer:
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    total = await sealer.count()
    for name in sessions:
        total += await publish_small_session(settings, tenant, name, frames=4)
        await sealer.wait_for(total)
    await sealer.stop()
    return sealer


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _vectors(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """transparency-dev/merkle style inclusion vectors: the happy path and mutations of it."""
    happy = {"leafIdx": doc["index"], "treeSize": doc["size"], "leafHash": doc["leaf_hash"],
             "proof": doc["proof"], "root": doc["root"], "wantErr": False}
    out = [happy, happy | {"leafHash": _flip(doc["leaf_hash"]), "wantErr": True},
           happy | {"root": _flip(doc["root"]), "wantErr": True},
           happy | {"treeSize": doc["size"] * 2, "wantErr": True},
           happy | {"proof": [*doc["proof"], doc["root"]], "wantErr": True}]
    if doc["proof"]:
        out.append(happy | {"proof": doc["proof"][:-1], "wantErr": True})
        out.append(happy | {"proof": [_flip(doc["proof"][0]), *doc["proof"][1:]],
                            "wantErr": True})
    return out


def _check_vector(v: dict[str, Any]) -> bool:
    args = (v["leafIdx"], v["treeSize"], base64.b64decode(v["leafHash"]),
            [base64.b64decode(p) for p in v["proof"]])
    ours = True
    try:
        merkle.verify_inclusion(*args, base64.b64decode(v["root"]))
    except merkle.ProofError:
        ours = False
    try:  # the bundle's standalone verifier must agree with the ledger's own
        standalone = verify_bundle.root_from_inclusion(*args) == base64.b64decode(v["root"])
    except ValueError:
        standalone = False
    assert ours == standalone, v
    return ours


async def test_produced_proofs_round_trip_and_pass_vectors(
        settings: Settings, tenant: str, tmp_path: Path) -> None:
    sealer = await _seal(settings, tenant, ["s-a", "s-b", "s-c"])
    try:
        async with sealer.engine.connect() as conn:
            sizes = [r[0] for r in await conn.execute(text(
                "SELECT size FROM ledger_checkpoints WHERE tenant_id = :t ORDER BY size"),
                {"t": tenant})]
        assert len(sizes) >= 2
        vectors = []
        for position in (0, 1, sizes[0] - 1, sizes[-1] - 1):
            made = _vox("proof", "inclusion", "--tenant", tenant, "--position", str(position),
                        "--json")
            assert made.returncode == 0, made.stderr
            doc = json.loads(made.stdout)
            assert doc["size"] == sizes[-1] and doc["checkpoint"].startswith(
                f"voxledger.local/{tenant}\n")
            checked = _vox("proof", "check", "-", stdin=made.stdout)
            assert checked.returncode == 0, checked.stdout + checked.stderr
            vectors += _vectors(doc)
            # The old flag form still checks what the new command produced.
            old = _vox("proof", "inclusion", "--leaf-hash", doc["leaf_hash"], "--index",
                       str(position), "--size", str(doc["size"]), "--root", doc["root"],
                       *[a for p in doc["proof"] for a in ("--proof", p)])
            assert old.returncode == 0, old.stdout
        (tmp_path / "vectors.json").write_text(json.dumps(vectors, indent=1))
        assert [_check_vector(v) for v in vectors] == [not v["wantErr"] for v in vectors]

        tampered = json.loads(_vox("proof", "inclusion", "--tenant", tenant, "--position", "1",
                                   "--size", str(sizes[0]), "--json").stdout)
        tampered["leaf_hash"] = _flip(tampered["leaf_hash"])
        assert _vox("proof", "check", "-", stdin=json.dumps(tampered)).returncode == 1

        tlog = _vox("proof", "inclusion", "--tenant", tenant, "--position", "2",
                    "--format", "tlog-proof")
        assert tlog.stdout.startswith("c2sp.org/tlog-proof@v1\nindex 2\n"), tlog.stdout
        leaf = json.loads(_vox("proof", "inclusion", "--tenant", tenant, "--position", "2",
                               "--json").stdout)["leaf_hash"]
        (tmp_path / "p.tlog-proof").write_text(tlog.stdout)
        ok = _vox("proof", "check", str(tmp_path / "p.tlog-proof"), "--leaf-hash", leaf)
        assert ok.returncode == 0, ok.stdout + ok.stderr

        cons = _vox("proof", "consistency", "--tenant", tenant, "--size1", str(sizes[0]),
                    "--json")
        assert cons.returncode == 0, cons.stderr
        assert "checkpoint1" in json.loads(cons.stdout)
        assert _vox("proof", "check", "-", stdin=cons.stdout).returncode == 0
        missing = _vox("proof", "inclusion", "--tenant", tenant, "--position", "0", "--size",
                       str(sizes[0] + 1))
        assert missing.returncode == 1 and "no signed checkpoint of size" in missing.stderr
    finally:
        await sealer.close()


async def test_verify_since_a_kept_checkpoint(settings: Settings, owner_settings: Settings,
                                              tenant: str, tmp_path: Path) -> None:
    owner = make_async_engine(owner_settings)  # the insider: the database owner
    sealer = await _seal(settings, tenant, ["s-a"])
    try:
        async with sealer.engine.connect() as conn:
            size, note = (await conn.execute(text(
                "SELECT size, note FROM ledger_checkpoints WHERE tenant_id = :t ORDER BY size "
                "DESC LIMIT 1"), {"t": tenant})).one()
        kept = tmp_path / "kept.checkpoint"
        kept.write_text(note)
        await sealer.close()
        sealer = await _seal(settings, tenant, ["s-b"])
        full = json.loads(_vox("verify", "--tenant", tenant, "--json").stdout)
        since = _vox("verify", "--tenant", tenant, "--since", str(kept), "--json")
        assert since.returncode == 0, since.stdout + since.stderr
        part = json.loads(since.stdout)
        assert part["since_size"] == size and part["entries"] == full["entries"] - size > 0

        # Rewriting a leaf before the kept checkpoint: --since notices without re-hashing rows.
        async with owner.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text("UPDATE ledger_entries SET leaf_hash = :h WHERE tenant_id = "
                                    ":t AND position = 1"), {"h": b"\x07" * 32, "t": tenant})
        bad = _vox("verify", "--tenant", tenant, "--since", str(kept))
        assert bad.returncode == 1 and "no longer match the checkpoint you kept" in bad.stdout
    finally:
        await owner.dispose()
        await sealer.close()
