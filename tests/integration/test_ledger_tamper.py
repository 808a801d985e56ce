"""Acceptance: every kind of tampering makes verify fail and name the position or object (law 4).

Each case runs on a fresh tenant: two sessions sealed in two rounds (so there are two signed
checkpoints and a consistency check between them), verify passes, one tamper, verify fails.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.leaf import LeafFields, leaf_data
from services.ledger.merkle import leaf_hash
from services.platform.db import make_async_engine
from services.platform.settings import Settings
from tests.conftest import REPO
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration

P = 10  # the position every entry tamper aims at (inside the first checkpoint)


def _flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1:]


async def _flip_payload(conn: AsyncConnection, tenant: str, _: TenantSealer) -> dict[str, Any]:
    ct = (await conn.execute(text("SELECT payload_ct FROM ledger_entries WHERE tenant_id = :t "
                                  "AND position = :p"), {"t": tenant, "p": P})).scalar_one()
    await conn.execute(text("UPDATE ledger_entries SET payload_ct = :c WHERE tenant_id = :t AND "
                            "position = :p"), {"c": _flip(bytes(ct), 20), "t": tenant, "p": P})
    return {"position": P, "what": "payload ciphertext altered"}


async def _delete(conn: AsyncConnection, tenant: str, _: TenantSealer) -> dict[str, Any]:
    await conn.execute(text("DELETE FROM ledger_entries WHERE tenant_id = :t AND position = :p"),
                       {"t": tenant, "p": P})
    return {"position": P, "what": "missing entry"}


async def _shift(conn: AsyncConnection, tenant: str, start: int) -> None:
    # Two steps: a single "position + 1" update collides with the primary key mid-way.
    await conn.execute(text("UPDATE ledger_entries SET position = -position - 2 WHERE "
                            "tenant_id = :t AND position >= :p"), {"t": tenant, "p": start})
    await conn.execute(text("UPDATE ledger_entries SET position = -position - 1 WHERE "
                            "tenant_id = :t AND position < 0"), {"t": tenant})


async def _insert(conn: AsyncConnection, tenant: str, _: TenantSealer) -> dict[str, Any]:
    """A careful forger: makes room, copies an entry and gives it a correct leaf of its own."""
    await _shift(conn, tenant, P)
    row = (await conn.execute(text("SELECT * FROM ledger_entries WHERE tenant_id = :t AND "
                                   "position = :p"), {"t": tenant, "p": P + 1})).mappings().one()
    forged = dict(row) | {"position": P, "event_id": str(uuid.uuid4()), "seq": 10_000}
    forged["leaf_hash"] = leaf_hash(leaf_data(LeafFields(
        tenant, P, forged["event_id"], row["session_id"], 10_000, row["schema_version"],
        row["provider"], row["direction"], row["type"], row["recorded_at"], row["mono_ns"],
        row["payload_sha256"], row["audio_sha256"])))
    cols = ", ".join(forged)
    await conn.execute(text(f"INSERT INTO ledger_entries ({cols}) VALUES "
                            f"({', '.join(':' + c for c in forged)})"), forged)
    return {"position": P, "what": "inserted"}


async def _swap(conn: AsyncConnection, tenant: str, _: TenantSealer) -> dict[str, Any]:
    q = P + 2
    for a, b in ((P, -1), (q, P), (-1, q)):
        await conn.execute(text("UPDATE ledger_entries SET position = :b WHERE tenant_id = :t "
                                "AND position = :a"), {"a": a, "b": b, "t": tenant})
    return {"position": P, "what": "does not match its sealed leaf"}


async def _edit_checkpoint(conn: AsyncConnection, tenant: str, _: TenantSealer
                           ) -> dict[str, Any]:
    size, note, key = (await conn.execute(text(
        "SELECT size, note, worm_key FROM ledger_checkpoints WHERE tenant_id = :t "
        "ORDER BY size LIMIT 1"), {"t": tenant})).one()
    lines = note.split("\n")
    lines[1] = str(size + 1)  # claim a bigger tree under the same signature
    await conn.execute(text("UPDATE ledger_checkpoints SET note = :n WHERE tenant_id = :t AND "
                            "size = :s"), {"n": "\n".join(lines), "t": tenant, "s": size})
    return {"object": key, "what": f"checkpoint {size}"}


async def _audio_byte(conn: AsyncConnection, tenant: str, sealer: TenantSealer
                      ) -> dict[str, Any]:
    key = (await conn.execute(text("SELECT segment_key FROM ledger_audio_refs WHERE tenant_id = "
                                   ":t ORDER BY position LIMIT 1"), {"t": tenant})).scalar_one()
    # The part of the batch object the first audio entry points into: one byte in its middle.
    obj, at, size = (await conn.execute(text(
        "SELECT object_key, object_offset, object_length FROM ledger_audio_segments "
        "WHERE key = :k"), {"k": key})).one()
    storage = sealer.storage
    blob = await asyncio.to_thread(storage.get_segment, obj)
    await asyncio.to_thread(storage.put_segment, obj, _flip(blob, at + size // 2))
    return {"object": key, "what": "audio object"}


TAMPERS: dict[str, Callable[[AsyncConnection, str, TenantSealer], Awaitable[dict[str, Any]]]] = {
    "flip-payload-byte": _flip_payload,
    "delete-entry": _delete,
    "insert-entry": _insert,
    "swap-entries": _swap,
    "edit-checkpoint": _edit_checkpoint,
    "change-audio-byte": _audio_byte,
}


@pytest.mark.parametrize("case", list(TAMPERS))
async def test_tamper_is_detected_and_located(settings: Settings, owner_settings: Settings,
                                              tenant: str, case: str) -> None:
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        total = 0
        for name in ("s-a", "s-b"):
            total += await publish_small_session(settings, tenant, name)
            await sealer.wait_for(total)
    finally:
        await sealer.stop()
    try:
        before = await sealer.verify()
        assert before.ok, [str(e) for e in before.errors]
        assert before.checkpoints >= 2 and before.audio_objects >= 2
        # The forger here has more than the pipeline's role (which may only INSERT entries and
        # checkpoints): a superuser who switches the append-only triggers off. Verify still sees.
        owner = make_async_engine(owner_settings)
        try:
            async with owner.begin() as conn:
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
                want = await TAMPERS[case](conn, tenant, sealer)
        finally:
            await owner.dispose()
        after = await sealer.verify()
        assert not after.ok
        first = after.errors[0]
        print(f"\n[tamper {case}] {first}")
        assert want["what"] in str(first)
        if "position" in want:
            assert first.position == want["position"]
        else:
            assert first.object == want["object"]
    finally:
        await sealer.close()
    if case == "delete-entry":
        cli = subprocess.run([sys.executable, "-m", "services.cli", "verify", "--tenant", tenant],
                             cwd=REPO, capture_output=True, text=True, timeout=300)
        assert cli.returncode == 1, cli.stdout + cli.stderr
        assert f"position {P}: missing entry" in cli.stdout.splitlines()[0]
