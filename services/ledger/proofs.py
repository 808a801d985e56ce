"""Proofs on demand: inclusion and consistency proofs with the signed checkpoint they are against.

Produced from the sealed leaf hashes (the verifier recomputes and checks everything, so the
producer may read them as stored). The JSON form is what ``voxledger proof check`` reads; the
``tlog-proof`` form is C2SP ``tlog-proof@v1`` (index, proof lines, the checkpoint with its
witness cosignatures). Errors: :class:`ProofRequestError` (the message says what to ask for).
"""

from __future__ import annotations

import base64
import contextlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import reads
from services.ledger.checkpoint import origin_for
from services.ledger.merkle import MerkleTree
from services.ledger.models import LedgerCheckpoint, LedgerCosignature

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"


class ProofRequestError(ValueError):
    """The proof asked for cannot be produced (no such position, size or checkpoint)."""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def checkpoint_note(conn: AsyncConnection, tenant: str, size: int | None,
                          cosigned: bool = True) -> tuple[int, str]:
    """The signed note of checkpoint ``size`` (default: the newest), with its cosignatures."""
    stmt = select(LedgerCheckpoint.size, LedgerCheckpoint.note).where(
        LedgerCheckpoint.tenant_id == tenant)
    stmt = (stmt.where(LedgerCheckpoint.size == size) if size is not None
            else stmt.order_by(LedgerCheckpoint.size.desc()).limit(1))
    row = (await conn.execute(stmt)).first()
    if row is None:
        sizes = [r[0] for r in await conn.execute(
            select(LedgerCheckpoint.size).where(LedgerCheckpoint.tenant_id == tenant)
            .order_by(LedgerCheckpoint.size.desc()).limit(5))]
        raise ProofRequestError(
            f"tenant {tenant!r} has no signed checkpoint of size {size}; recent sizes: {sizes}"
            if size is not None else f"tenant {tenant!r} has no signed checkpoint yet")
    if not cosigned:
        return int(row[0]), str(row[1])
    lines = [r[0] for r in await conn.execute(
        select(LedgerCosignature.line).where(LedgerCosignature.tenant_id == tenant,
                                             LedgerCosignature.size == row[0])
        .order_by(LedgerCosignature.witness))]
    return int(row[0]), str(row[1]) + "".join(f"{ln}\n" for ln in lines)


async def inclusion(conn: AsyncConnection, tenant: str, position: int, size: int | None = None
                    ) -> dict[str, Any]:
    size, note = await checkpoint_note(conn, tenant, size)
    if not 0 <= position < size:
        raise ProofRequestError(f"position {position} is not below checkpoint size {size}")
    tree = MerkleTree(await reads.stored_leaves(conn, tenant, size))
    if tree.size != size:
        raise ProofRequestError(f"the ledger holds {tree.size} of the checkpoint's {size} "
                                "entries; run `voxledger verify`")
    return {"kind": "inclusion", "tenant": tenant, "origin": origin_for(tenant),
            "index": position, "size": size, "leaf_hash": b64(tree.leaf(position)),
            "root": b64(tree.root()), "proof": [b64(p) for p in tree.inclusion_proof(position)],
            "checkpoint": note}


async def consistency(conn: AsyncConnection, tenant: str, size1: int, size2: int | None = None
                      ) -> dict[str, Any]:
    size2, note2 = await checkpoint_note(conn, tenant, size2)
    if not 0 < size1 <= size2:
        raise ProofRequestError(f"--size1 must be in 1..{size2} (the checkpoint size)")
    tree = MerkleTree(await reads.stored_leaves(conn, tenant, size2))
    if tree.size != size2:
        raise ProofRequestError(f"the ledger holds {tree.size} of the checkpoint's {size2} "
                                "entries; run `voxledger verify`")
    out: dict[str, Any] = {
        "kind": "consistency", "tenant": tenant, "origin": origin_for(tenant),
        "size1": size1, "size2": size2, "root1": b64(tree.root(size1)), "root2": b64(tree.root()),
        "proof": [b64(p) for p in tree.consistency_proof(size1)], "checkpoint": note2}
    # size1 need not be a checkpoint; its root is then vouched for by the proof only.
    with contextlib.suppress(ProofRequestError):
        out["checkpoint1"] = (await checkpoint_note(conn, tenant, size1))[1]
    return out


def tlog_proof(p: dict[str, Any]) -> str:
    """C2SP tlog-proof@v1 text of an inclusion proof dict."""
    lines = [TLOG_PROOF_HEADER, f"index {p['index']}", *p["proof"]]
    return "\n".join(lines) + "\n\n" + str(p["checkpoint"])


def parse_tlog_proof(text: str) -> tuple[int, list[bytes], str]:
    """(index, proof hashes, checkpoint note) of a tlog-proof@v1 text; ValueError if malformed."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != TLOG_PROOF_HEADER:
        raise ValueError(f"not a {TLOG_PROOF_HEADER} proof")
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        rest = rest[1:]
    if not rest or not rest[0].startswith("index ") or not rest[0][6:].isdigit():
        raise ValueError("tlog-proof needs an 'index N' line")
    index = int(rest[0][6:])
    if str(index) != rest[0][6:]:
        raise ValueError("tlog-proof index has leading zeroes")
    proof = [base64.b64decode(h, validate=True) for h in rest[1:]]
    return index, proof, note
