"""The session page's ledger badge: entries, the newest signed checkpoint, and whether the
session's first and last entries are provably in that checkpoint's tree.

Only metadata and hashes (no content), computed after the API has served the session to the
token (so it never says anything about a session the token may not see). The checkpoint's
signature is checked with the tenant's log key and the inclusion proofs with RFC 9162, as an
outside auditor would (``voxledger proof inclusion``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger import reads
from services.ledger.checkpoint import NoteError
from services.ledger.merkle import MerkleError, MerkleTree, verify_inclusion
from services.ledger.summary import ledger_summary
from services.ledger.trust import Trust


@dataclass(frozen=True)
class Badge:
    entries: int
    checkpoint_size: int | None
    checkpoint_at: str | None
    covered: bool  # the newest checkpoint covers the session's last entry
    verified: bool  # signature and inclusion proofs checked
    problem: str | None  # why not verified


async def badge(engine: AsyncEngine, trust: Trust, tenant: str, session: str) -> Badge:
    async with engine.connect() as conn:
        summary = await ledger_summary(conn, tenant, session)
        cps = await reads.checkpoints(conn, tenant)
        first, last = summary["first_position"], summary["last_position"]
        if not cps or last is None:
            return Badge(summary["entries"], None, None, False, False,
                         "no signed checkpoint yet" if last is not None else "nothing sealed")
        cp = cps[-1]
        at = None if cp.worm_pending else "in WORM"
        if last >= cp.size:
            return Badge(summary["entries"], cp.size, at, False, False,
                         "the newest checkpoint does not cover this session's last entry yet")
        leaves = await reads.leaf_hashes(conn, tenant, cp.size)
    try:
        # The pinned public keys of the separate signing identity (never the data keyring).
        signed = trust.open(cp.note, tenant)
        tree = MerkleTree(leaves)
        for position in {first, last}:
            verify_inclusion(position, signed.size, tree.leaf(position),
                             tree.inclusion_proof(position, signed.size), signed.root_hash)
    except (NoteError, MerkleError) as exc:
        return Badge(summary["entries"], cp.size, at, True, False, type(exc).__name__)
    return Badge(summary["entries"], cp.size, at, True, True, None)
