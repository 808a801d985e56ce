"""``voxledger proof check``: a produced proof, end to end (Merkle proof and signed checkpoint).

Reads the JSON of ``proof inclusion|consistency --json`` or a C2SP tlog-proof@v1. Raises
:class:`~services.ledger.merkle.ProofError` when anything does not verify (the proof, the
checkpoint's signature against the trusted keys, or the checkpoint's size and root against the
proof), :class:`ValueError` when the input is not a proof document.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from services.ledger import merkle
from services.ledger.checkpoint import Checkpoint, NoteError, parse_checkpoint, parse_note
from services.ledger.proofs import TLOG_PROOF_HEADER, parse_tlog_proof
from services.ledger.trust import Trust


class CheckpointProofError(merkle.ProofError):
    """The checkpoint is not signed by a trusted key or does not match the proof."""


def _b(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a base64 string")
    return base64.b64decode(value, validate=True)


def _tenant_of(note: str) -> str:
    origin = parse_checkpoint(parse_note(note).text).origin
    return origin.rsplit("/", 1)[-1]


def _open(trust: Trust, note: str, tenant: str | None) -> Checkpoint:
    try:
        return trust.open(note, tenant or _tenant_of(note))
    except NoteError as exc:
        raise CheckpointProofError(f"checkpoint: {exc}") from None


def _same(cp: Checkpoint, size: int, root: bytes) -> None:
    if cp.size != size or cp.root_hash != root:
        raise CheckpointProofError(f"the signed checkpoint is size {cp.size}, not the proof's "
                                   f"size {size} and root")


def check_document(text: str, trust: Trust, leaf_hash: str | None, tenant: str | None) -> None:
    if text.startswith(TLOG_PROOF_HEADER):
        index, proof, note = parse_tlog_proof(text)
        if leaf_hash is None:
            raise ValueError("a tlog-proof does not carry the leaf: give --leaf-hash")
        cp = _open(trust, note, tenant)
        merkle.verify_inclusion(index, cp.size, _b(leaf_hash, "--leaf-hash"), proof, cp.root_hash)
        return
    try:
        doc = json.loads(text)
    except ValueError:
        raise ValueError("input is neither proof JSON nor a tlog-proof") from None
    if not isinstance(doc, dict) or doc.get("kind") not in ("inclusion", "consistency"):
        raise ValueError("proof JSON needs kind inclusion or consistency")
    nodes = [_b(p, "proof node") for p in doc.get("proof") or []]
    if doc["kind"] == "inclusion":
        root = _b(doc["root"], "root")
        leaf = _b(leaf_hash, "--leaf-hash") if leaf_hash else _b(doc["leaf_hash"], "leaf_hash")
        merkle.verify_inclusion(int(doc["index"]), int(doc["size"]), leaf, nodes, root)
        _same(_open(trust, doc["checkpoint"], tenant), int(doc["size"]), root)
        return
    r1, r2 = _b(doc["root1"], "root1"), _b(doc["root2"], "root2")
    merkle.verify_consistency(int(doc["size1"]), int(doc["size2"]), r1, r2, nodes)
    _same(_open(trust, doc["checkpoint"], tenant), int(doc["size2"]), r2)
    if "checkpoint1" in doc:
        _same(_open(trust, doc["checkpoint1"], tenant), int(doc["size1"]), r1)
