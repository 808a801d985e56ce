"""Entries/s of ``voxledger verify`` over a large tenant (a measurement, not a test).

    .venv/bin/python bench/verify_speed.py [--entries 200000]

Seals a synthetic tenant straight through the sealer's pure planner (``plan_batch``: real leaf
hashes, real AES-GCM payloads, no audio) and the repository's COPY, signs one checkpoint with the
signing identity and writes its WORM copy, then times the old per-row path (SQLAlchemy rows +
``leaf_data``) against ``verify_ledger``'s bulk path on the stack of ``.voxledger/env``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.envelope import Direction, Envelope, Provider
from services.ledger import reads
from services.ledger import repository as repo
from services.ledger.checkpoint import Checkpoint, origin_for, sign_checkpoint
from services.ledger.leaf import LeafFields, leaf_data
from services.ledger.merkle import leaf_hash
from services.ledger.sealing import Fresh, plan_batch
from services.ledger.storage import LedgerStorage, checkpoint_key
from services.ledger.trust import Trust
from services.ledger.verify import verify_ledger
from services.platform.db import make_async_engine
from services.platform.keys import LocalKeyProvider, new_dek
from services.platform.s3 import make_s3_client
from services.platform.settings import load_settings
from services.platform.signing import PublicKeys, load_signer


def _uuid7() -> str:
    raw = bytearray(uuid.uuid4().bytes)
    raw[6] = (raw[6] & 0x0F) | 0x70
    return str(uuid.UUID(bytes=bytes(raw)))


async def main(entries: int) -> None:
    settings = load_settings()
    keys = LocalKeyProvider.from_file(settings.keyring_path)
    storage = LedgerStorage(settings, make_s3_client(settings))
    engine = make_async_engine(settings)
    tenant = "bench-verify-" + secrets.token_hex(3)
    t0 = datetime(2026, 11, 30, tzinfo=UTC)
    per_session = 2000
    async with engine.begin() as conn:
        tree = await repo.lock_tree(conn, tenant)
        for start in range(0, entries, per_session):
            session = f"s-{start // per_session}"
            sessions = await repo.lock_sessions(conn, tenant, [session],
                                                lambda sid: keys.wrap_dek(tenant, new_dek(), sid))
            dek = keys.unwrap_dek(tenant, sessions[session].wrapped_dek or b"", session)
            fresh = [Fresh(start + i, "x", Envelope(
                event_id=_uuid7(), tenant_id=tenant, session_id=session, seq=i,
                provider=Provider.OPENAI_REALTIME, direction=Direction.SERVER,
                type="response.text.delta",
                recorded_at=t0 + timedelta(milliseconds=start + i), mono_ns=i * 1000,
                payload={"type": "response.text.delta", "delta": "hello there " * 8}))
                for i in range(min(per_session, entries - start))]
            plan = plan_batch(tenant, fresh, tree.frontier.size, {session: dek}, {},
                              lambda n: n)
            await repo.copy_entries(conn, plan.entries)
            tree.frontier.extend(plan.leaves)
        size, root = tree.frontier.size, tree.frontier.root()
        note = sign_checkpoint(Checkpoint(origin_for(tenant), size, root),
                               load_signer(settings.signing_keys_dir).key)
        await repo.insert_checkpoint(conn, tenant, size, root, note, "bench",
                                     checkpoint_key(tenant, size))
        tree.checkpoint_size = size
        await repo.save_tree(conn, tree)
    await asyncio.to_thread(storage.put_checkpoint, checkpoint_key(tenant, size), note)
    print(f"sealed {size} entries for {tenant}")

    # The old path: ORM rows, per-row datetime formatting and json.dumps of a dict.
    async with engine.connect() as conn:
        started = time.perf_counter()
        n = 0
        async for row in reads.iter_entries(conn, tenant):
            leaf = leaf_hash(leaf_data(LeafFields(
                tenant, row.position, row.event_id, row.session_id, row.seq,
                row.schema_version, row.provider, row.direction, row.type, row.recorded_at,
                row.mono_ns, hashlib.sha256(row.payload_ct).digest(), row.audio_sha256)))
            n += leaf == row.leaf_hash
        old = n / (time.perf_counter() - started)
    trust = Trust.local(PublicKeys.load(settings.signing_keys_dir))
    started = time.perf_counter()
    report = await verify_ledger(engine, keys, storage, trust=trust, tenant=tenant)
    wall = time.perf_counter() - started
    await engine.dispose()
    print(f"old per-row leaf path: {old:,.0f} entries/s ({n} matched)")
    print(f"verify_ledger: ok={report.ok} entries={report.entries} "
          f"entries_per_s={report.entries_per_s:,} (wall {report.entries / wall:,.0f}/s, "
          f"{wall:.1f}s incl. sessions and WORM listing)")
    for issue in report.errors[:5]:
        print(f"  FAIL {issue}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=200_000)
    asyncio.run(main(ap.parse_args().entries))
