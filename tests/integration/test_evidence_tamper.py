"""Tampering that an insider with the database, the bucket or the log key could do (issue 16).

Each passed the old ``verify`` (it trusted the database's WORM pointers and checked signatures
with a key derived from the data keyring). Now ``verify --trusted-key`` (the log vkey pinned by
the auditor) exits 1 in each, and an independent witness refuses a rewritten history even from
someone holding the log's signing key.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.checkpoint import Checkpoint, origin_for, sign_checkpoint
from services.ledger.leaf import LeafFields, leaf_data
from services.ledger.merkle import MerkleTree, leaf_hash
from services.ledger.storage import checkpoint_key
from services.ledger.trust import Trust
from services.ledger.witnessing import WitnessError, add_checkpoint
from services.platform.db import make_async_engine
from services.platform.settings import Settings
from services.platform.signing import load_signer
from tests.conftest import REPO
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


def _vox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


async def _sealed(settings: Settings, tenant: str, rounds: int = 3) -> TenantSealer:
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    total = 0
    for i in range(rounds):
        total += await publish_small_session(settings, tenant, f"s-{i}", frames=5)
        await sealer.wait_for(total)
        # One checkpoint per session end; wait until each is sealed before the next session.
        await sealer.sealer.flush_worm(sealer.engine)
    await sealer.stop()
    return sealer


async def _checkpoints(conn: AsyncConnection, tenant: str) -> list[Any]:
    return list((await conn.execute(text(
        "SELECT size, root, note, worm_key FROM ledger_checkpoints WHERE tenant_id = :t "
        "ORDER BY size"), {"t": tenant})).all())


async def _as_insider(conn: AsyncConnection) -> None:
    # An insider with the database bypasses any append-only trigger (issue 12) this way.
    await conn.execute(text("SET LOCAL session_replication_role = replica"))


async def _truncate(conn: AsyncConnection, sealer: TenantSealer) -> str:
    """Delete the newest entries and their checkpoints and fix up the tree row."""
    t = sealer.tenant
    cps = await _checkpoints(conn, t)
    keep = cps[-2].size
    await _as_insider(conn)
    leaves = [bytes(r[0]) for r in await conn.execute(text(
        "SELECT leaf_hash FROM ledger_entries WHERE tenant_id = :t AND position < :k ORDER BY "
        "position"), {"t": t, "k": keep})]
    for table in ("ledger_audio_refs", "ledger_entries"):
        await conn.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t AND position >= :k"),
                           {"t": t, "k": keep})
    await conn.execute(text("DELETE FROM ledger_checkpoints WHERE tenant_id = :t AND size > :k"),
                       {"t": t, "k": keep})
    await conn.execute(text("DELETE FROM ledger_sessions WHERE tenant_id = :t AND session_id = "
                            "'s-2'"), {"t": t})
    from services.ledger.frontier import Frontier

    f = Frontier()
    f.extend(leaves)
    await conn.execute(text("UPDATE ledger_trees SET size = :n, root = :r, frontier = :f, "
                            "checkpoint_size = :n WHERE tenant_id = :t"),
                       {"n": keep, "r": f.root(), "f": f.to_bytes(), "t": t})
    return "missing from the database"


async def _repoint(conn: AsyncConnection, sealer: TenantSealer) -> str:
    """Alter an entry, re-sign the checkpoint, write the forgery to a new WORM key, repoint."""
    t = sealer.tenant
    await _as_insider(conn)
    size = (await _checkpoints(conn, t))[-1].size
    forged_key = Ed25519PrivateKey.generate()
    forged = sign_checkpoint(Checkpoint(origin_for(t), size, os.urandom(32)), forged_key)
    key = f"checkpoints/{t}/forged-{size:020d}.checkpoint"
    await asyncio.to_thread(sealer.storage.put_checkpoint, key, forged)
    await conn.execute(text("UPDATE ledger_checkpoints SET note = :n, worm_key = :k WHERE "
                            "tenant_id = :t AND size = :s"), {"n": forged, "k": key, "t": t,
                                                              "s": size})
    return "trusted key"


async def _overwrite(conn: AsyncConnection, sealer: TenantSealer) -> str:
    """Put a new version over a compliance-locked checkpoint object (the store allows it)."""
    t = sealer.tenant
    size = (await _checkpoints(conn, t))[0].size
    forged = sign_checkpoint(Checkpoint(origin_for(t), size, os.urandom(32)),
                             Ed25519PrivateKey.generate())
    await asyncio.to_thread(sealer.storage.put_checkpoint, checkpoint_key(t, size), forged)
    return "versions"


async def _resign(conn: AsyncConnection, sealer: TenantSealer) -> str:
    """Re-sign the whole log with a new key (database and new WORM versions)."""
    t = sealer.tenant
    await _as_insider(conn)
    new = Ed25519PrivateKey.generate()
    for size, root, _, key in await _checkpoints(conn, t):
        note = sign_checkpoint(Checkpoint(origin_for(t), size, bytes(root)), new)
        await conn.execute(text("UPDATE ledger_checkpoints SET note = :n WHERE tenant_id = :t "
                                "AND size = :s"), {"n": note, "t": t, "s": size})
        await asyncio.to_thread(sealer.storage.put_checkpoint, key, note)
    return "trusted key"


TAMPERS: dict[str, Callable[[AsyncConnection, TenantSealer], Awaitable[str]]] = {
    "truncate-newest": _truncate, "repoint-worm-key": _repoint,
    "overwrite-worm-version": _overwrite, "resign-with-new-key": _resign,
}


@pytest.mark.parametrize("case", list(TAMPERS))
async def test_verify_with_pinned_key_catches_insider_tampering(
        settings: Settings, owner_settings: Settings, tenant: str, case: str,
        tmp_path: Path) -> None:
    sealer = await _sealed(settings, tenant)
    owner = make_async_engine(owner_settings)  # the insider: the database owner
    try:
        pinned = tmp_path / "log.vkey"
        pub = _vox("keys", "public", "--tenant", tenant)
        assert pub.returncode == 0, pub.stderr
        pinned.write_text(pub.stdout)
        before = _vox("verify", "--tenant", tenant, "--trusted-key", str(pinned), "--json")
        assert before.returncode == 0, before.stdout + before.stderr
        assert json.loads(before.stdout)["worm_objects"] >= 3
        async with owner.begin() as conn:
            want = await TAMPERS[case](conn, sealer)
        after = _vox("verify", "--tenant", tenant, "--trusted-key", str(pinned))
        print(f"\n[{case}] {after.stdout.splitlines()[0]}")
        assert after.returncode == 1, after.stdout + after.stderr
        assert want in after.stdout
    finally:
        await owner.dispose()
        await sealer.close()


@pytest.fixture
def witness(tmp_path: Path, tenant: str) -> Iterator[tuple[str, str, Path]]:
    """`voxledger witness serve` as its own process, trusting this tenant's log key."""
    state = tmp_path / "witness"
    init = _vox("witness", "init", "--state", str(state), "--name", "witness.test/w1")
    assert init.returncode == 0, init.stderr
    vkey = _vox("keys", "public", "--tenant", tenant).stdout.strip()
    assert _vox("witness", "trust", "--state", str(state), vkey).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "witness", "serve",
                             "--state", str(state)], cwd=REPO, stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    try:
        yield info["url"], init.stdout.strip(), state
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()


async def test_witness_cosigns_and_refuses_a_rewritten_history(
        settings: Settings, owner_settings: Settings, tenant: str, witness: tuple[str, str, Path],
        tmp_path: Path) -> None:
    url, witness_vkey, _ = witness
    owner = make_async_engine(owner_settings)  # the insider: the database owner
    sealer = await _sealed(settings.model_copy(update={"witness_urls": [url]}), tenant)
    try:
        await sealer.sealer.witnesses.run(sealer.engine, sealer.storage, tenant)
        async with sealer.engine.connect() as conn:
            cps = await _checkpoints(conn, tenant)
            rows = (await conn.execute(text("SELECT size, witness FROM ledger_cosignatures "
                                            "WHERE tenant_id = :t"), {"t": tenant})).all()
        assert (cps[-1].size, "witness.test/w1") in {(r[0], r[1]) for r in rows}
        log_vkey = _vox("keys", "public", "--tenant", tenant).stdout.strip()
        policy = tmp_path / "policy.txt"
        policy.write_text(f"log {log_vkey}\nwitness w1 {witness_vkey}\nquorum w1\n")
        ok = _vox("verify", "--tenant", tenant, "--policy", str(policy), "--json")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert json.loads(ok.stdout)["witnessed_size"] == cps[-1].size
        # The manual client: the witness already holds this size, so old == size, empty proof.
        again = _vox("witness", "add-checkpoint", "--url", url, "--tenant", tenant, "--json")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["witnesses"] == ["witness.test/w1"]

        # Someone with the log's signing key rewrites entry 3 and signs the new history.
        async with owner.begin() as conn:
            await _as_insider(conn)
            row = (await conn.execute(text("SELECT * FROM ledger_entries WHERE tenant_id = :t "
                                           "AND position = 3"), {"t": tenant})).mappings().one()
            forged_sha = os.urandom(32)
            forged_leaf = leaf_hash(leaf_data(LeafFields(
                tenant, 3, row["event_id"], row["session_id"], row["seq"],
                row["schema_version"], row["provider"], row["direction"], row["type"],
                row["recorded_at"], row["mono_ns"], forged_sha, row["audio_sha256"])))
            await conn.execute(text("UPDATE ledger_entries SET payload_sha256 = :p, leaf_hash = "
                                    ":l WHERE tenant_id = :t AND position = 3"),
                               {"p": forged_sha, "l": forged_leaf, "t": tenant})
            leaves = [bytes(r[0]) for r in await conn.execute(text(
                "SELECT leaf_hash FROM ledger_entries WHERE tenant_id = :t ORDER BY position"),
                {"t": tenant})]
        tree = MerkleTree(leaves)
        size = tree.size
        note = sign_checkpoint(Checkpoint(origin_for(tenant), size, tree.root()),
                               load_signer(settings.signing_keys_dir).key)
        assert Trust.from_file(_pinned(tmp_path, log_vkey)).open(note, tenant).size == size
        async with sealer.engine.connect() as conn:
            with pytest.raises(WitnessError) as refused:
                await add_checkpoint(conn, tenant, size, note, url, cps[-1].size, 10.0)
        print(f"\n[witness] rewritten history refused with HTTP {refused.value.status}")
        assert refused.value.status in (409, 422)
        bad = _vox("verify", "--tenant", tenant, "--policy", str(policy))
        assert bad.returncode == 1, bad.stdout
    finally:
        await owner.dispose()
        await sealer.close()


def _pinned(tmp: Path, vkey: str) -> Path:
    path = tmp / "pinned.vkey"
    path.write_text(vkey + "\n")
    return path
