"""Compose a session bundle from the stores (the composition root of ``evidence export``).

Custody: the export is appended to the tenant's ledger as an ``evidence.exported`` control event
(who, why, the digest of the bundle's contents) through ``services.ledger.journal`` before the
bundle is written; its position is in ``custody.json``, and once the sealer's next checkpoint
covers it, ``voxledger proof inclusion --tenant T --position P`` proves it.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

from services.evidence import bundle
from services.evidence.bundle import verifier_source
from services.evidence.collect import BundleError, collect
from services.evidence.media import MediaError, recordings, transcript
from services.platform.settings import Settings

EMPTY_POLICY = "# no witnesses configured (VOXLEDGER_WITNESS_POLICY_FILE)\nquorum none\n"


def _policy(settings: Settings, log_vkeys: bytes) -> str:
    logs = "".join(f"log {v}\n" for v in log_vkeys.decode().split())
    path = settings.witness_policy_file
    if path is None:
        return logs + EMPTY_POLICY
    body = path.read_text()
    # The operator's witnesses and quorum, with this tenant's log keys in place of its log lines.
    kept = [ln for ln in body.splitlines() if not ln.strip().startswith("log ")]
    return logs + "\n".join(kept) + "\n"


async def _custody(engine: Any, settings: Settings, keys: Any, tenant: str,
                   body: dict[str, Any]) -> tuple[int, str]:
    from services.ledger import journal

    ref = await journal.append(engine, settings, keys, tenant, bundle.EXPORT_EVENT, body)
    return ref.position, ref.event_id


async def export_session(settings: Settings, tenant: str, session: str, reason: str,
                         actor: str | None = None) -> tuple[bytes, dict[str, Any]]:
    from services.ledger.storage import LedgerStorage
    from services.platform.db import make_async_engine
    from services.platform.keys import LocalKeyProvider
    from services.platform.s3 import make_s3_client
    from services.platform.signing import PublicKeys
    from services.retention.holds import holds_on

    if not reason.strip():
        raise BundleError("--reason must say why the bundle is made (it is sealed in custody)")
    keys = LocalKeyProvider.from_file(settings.keyring_path)
    client = make_s3_client(settings)
    storage = LedgerStorage(settings, client)
    engine = make_async_engine(settings, pool_size=2)
    try:
        async with engine.connect() as conn:
            part = await collect(conn, keys, storage, PublicKeys.load(settings.signing_keys_dir),
                                 tenant, session)
            holds = await holds_on(conn, tenant, session)
        extra = await asyncio.to_thread(_projections, settings, client, tenant, session, part.dek)
        now = datetime.now(UTC)
        head = bundle.header(tenant, session, reason, part, now, holds)
        policy = _policy(settings, part.files["keys/log.vkey"])
        witness_keys = [ln.split()[2] for ln in policy.splitlines()
                        if ln.strip().startswith("witness ")]
        extra["keys/witnesses.vkey"] = "".join(f"{k}\n" for k in witness_keys).encode()
        who = actor or os.environ.get("USER") or _login()
        digest = bundle.contents_digest(part.files | extra | {
            "keys/policy.txt": policy.encode(),
            "verify_bundle.py": verifier_source()})
        position, event_id = await _custody(engine, settings, keys, tenant, {
            "session_id": session, "actor": who, "reason": reason,
            "contents_sha256": digest, "exported_at": now.isoformat()})
    finally:
        await engine.dispose()
    data, result = bundle.assemble(part, extra, head, bundle.Custody(
        who, reason, now, position, event_id), policy)
    summary = {"tenant": tenant, "session": session, "bytes": len(data), "erased": part.erased,
               "entries": len(part.positions), "checkpoint_size": part.anchor_size,
               "custody_position": position, "verified": result.ok,
               "failures": [{"file": f, "why": w} for f, w in result.failures]}
    return data, summary


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _projections(settings: Settings, client: Any, tenant: str, session: str,
                 dek: bytes | None) -> dict[str, bytes]:
    from services.evidence.media import flac
    from services.platform.db import make_engine

    if dek is None:
        return {}  # erased: no plaintext projection goes into the bundle
    out: dict[str, bytes] = {}
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            for kind, rec in sorted(recordings(conn, tenant, session).items()):
                try:
                    out[f"audio/{kind}.flac"] = flac(rec, dek, client, settings.bucket_audio)
                except MediaError as exc:
                    raise BundleError(str(exc)) from None
            found = transcript(conn, tenant, session)
    finally:
        engine.dispose()
    if found is not None:
        out["transcript.json"], out["transcript.txt"] = found
    return out
