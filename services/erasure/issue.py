"""Issue a certificate for a closed request: statement from the request rows, the completion
event's leaf from the ledger, its inclusion proof against the first signed checkpoint covering it
(waiting for the sealer to sign one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from services.erasure import repository as repo
from services.erasure.certificate import leaf_json, sign, tlog_proof
from services.ledger.journal import JournalRef, wait_for_checkpoint
from services.ledger.leaf import LeafFields
from services.ledger.merkle import MerkleTree
from services.platform.forget import ForgetContext
from services.platform.signing import load_signer


class IssueError(Exception):
    """No certificate can be issued (yet) for this request."""


async def issue_certificate(ctx: ForgetContext, rid: str, timeout_s: float = 60.0
                            ) -> dict[str, Any]:
    async with ctx.engine.connect() as conn:
        row = await repo.get(conn, rid)
        if row is None:
            raise IssueError(f"no erasure request {rid!r}")
        if row.status != "completed" or row.closed_position is None:
            raise IssueError(f"request {rid} is {row.status}; certificates are issued for "
                             "completed requests")
        stores = await repo.stores(conn, rid)
        e = (await conn.execute(text(
            "SELECT * FROM ledger_entries WHERE tenant_id = :t AND position = :p"),
            {"t": row.tenant_id, "p": row.closed_position})).one()
    ref = JournalRef(row.tenant_id, row.closed_position, e.event_id, e.session_id, e.seq,
                     e.recorded_at)
    size, note = await wait_for_checkpoint(ctx.engine, ref, timeout_s)
    async with ctx.engine.connect() as conn:
        leaves = [bytes(r[0]) for r in await conn.execute(text(
            "SELECT leaf_hash FROM ledger_entries WHERE tenant_id = :t AND position < :n "
            "ORDER BY position"), {"t": row.tenant_id, "n": size})]
    proof = MerkleTree(leaves).inclusion_proof(row.closed_position, size)
    fields = LeafFields(row.tenant_id, e.position, e.event_id, e.session_id, e.seq,
                        e.schema_version, e.provider, e.direction, e.type, e.recorded_at,
                        e.mono_ns, bytes(e.payload_sha256), bytes(e.audio_sha256))
    statement = {
        "request_id": rid, "tenant_id": row.tenant_id, "kind": row.kind,
        "subject_digest": row.subject_digest,
        "identifiers": row.identifiers, "sessions": list(row.sessions),
        "received_at": row.received_at.isoformat(), "due_at": row.due_at.isoformat(),
        "completed_at": row.closed_at.isoformat() if row.closed_at else None,
        "stores": {s.store: {"status": s.status, "deleted": s.deleted, "shredded": s.shredded}
                   for s in stores},
        "beyond_use": [b for s in stores for b in s.beyond_use],
        "residue": {k: v for k, v in (row.residue or {}).items() if k != "findings"},
        "refused": row.refused_reason,
        "completion": {"position": row.closed_position, "event_id": e.event_id,
                       "checkpoint_size": size, "leaf": leaf_json(fields)},
        "issued_at": ctx.clock.now().isoformat(),
    }
    return sign(statement, tlog_proof(row.closed_position, proof, note),
                # The log's own identity signs the certificate (as it signs checkpoints), so the
                # key `voxledger keys public` prints verifies both.
                load_signer(ctx.settings.signing_keys_dir).key)
