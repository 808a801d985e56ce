"""Ledger evidence for auditors: verify status, signed checkpoints, inclusion and consistency
proofs (RFC 9162) against checkpoints of the token's tenant. No content."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from schemas.api import (
    CheckpointInfo,
    Checkpoints,
    ConsistencyProof,
    InclusionProof,
    VerifyIssue,
    VerifyStatus,
)
from services.api.auth import allow
from services.api.problems import bad_request, not_found, problem_responses
from services.api.state import ApiState, St
from services.api.tokens import Principal, Role

router = APIRouter(prefix="/ledger", tags=["ledger"])
AUDIT = allow(Role.AUDITOR, Role.ADMIN)
Size = Annotated[int, Query(ge=1, le=2**62)]


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


@router.get("/verify", response_model=VerifyStatus, responses=problem_responses(401, 403, 429))
async def verify(who: Annotated[Principal, Depends(AUDIT)], st: St) -> VerifyStatus:
    """Run ``voxledger verify`` over the tenant's ledger now (leaves, tree, checkpoints, WORM
    copies, audio segments, gaplessness)."""
    from services.ledger.storage import LedgerStorage
    from services.ledger.trust import Trust
    from services.ledger.verify import verify_ledger
    from services.platform.signing import PublicKeys

    trust = Trust.local(PublicKeys.load(st.settings.signing_keys_dir))
    report = await verify_ledger(st.engine, st.keys, LedgerStorage(st.settings, st.s3),
                                 tenant=who.tenant_id, trust=trust)
    if report.tenants == 0:  # nothing recorded yet is not a failure of the ledger
        report.errors.clear()

    def issues(found: list[Any]) -> list[VerifyIssue]:
        return [VerifyIssue(message=str(i), position=i.position, session=i.session,
                            object=i.object) for i in found]
    return VerifyStatus(ok=report.ok, entries=report.entries, sessions=report.sessions,
                        checkpoints=report.checkpoints, audio_objects=report.audio_objects,
                        erased_sessions=report.erased_sessions, errors=issues(report.errors),
                        warnings=issues(report.warnings))


@router.get("/checkpoints", response_model=Checkpoints,
            responses=problem_responses(401, 403, 422, 429))
async def checkpoints(who: Annotated[Principal, Depends(AUDIT)], st: St,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Checkpoints:
    """The tenant's signed checkpoints (C2SP signed notes), newest first, and the verifier key."""
    from services.ledger import reads
    from services.ledger.checkpoint import Verifier, origin_for

    async with st.engine.connect() as conn:
        rows = await reads.checkpoints(conn, who.tenant_id)
    origin = origin_for(who.tenant_id)
    vkey = Verifier.from_public_key(origin, st.keys.signing_key(who.tenant_id)).vkey()
    newest = list(reversed(rows))[:limit]
    return Checkpoints(origin=origin, vkey=vkey, checkpoints=[
        CheckpointInfo(size=r.size, root=_b64(r.root), note=r.note, worm_key=r.worm_key)
        for r in newest])


async def _checkpoint(st: ApiState, tenant: str, size: int | None) -> Any:
    from services.ledger import reads

    async with st.engine.connect() as conn:
        rows = await reads.checkpoints(conn, tenant)
    if not rows:
        raise not_found("checkpoint")
    if size is None:
        return rows[-1]
    for r in rows:
        if r.size == size:
            return r
    raise not_found("checkpoint of that size")


@router.get("/proofs/inclusion", response_model=InclusionProof,
            responses=problem_responses(401, 403, 404, 422, 429))
async def inclusion(who: Annotated[Principal, Depends(AUDIT)], st: St,
                    position: Annotated[int, Query(ge=0, le=2**62)] = 0,
                    size: Annotated[int | None, Query(ge=1, le=2**62, description=(
                        "a signed checkpoint's size (default: the latest)"))] = None,
                    ) -> InclusionProof:
    """Proof that the entry at ``position`` is in the tree of a signed checkpoint; check it
    with ``voxledger proof inclusion``."""
    from services.ledger import reads
    from services.ledger.merkle import MerkleTree

    cp = await _checkpoint(st, who.tenant_id, size)
    if position >= cp.size:
        raise not_found("entry at that position under this checkpoint")
    async with st.engine.connect() as conn:
        leaves = await reads.leaf_hashes(conn, who.tenant_id, cp.size)
    tree = MerkleTree(leaves)
    return InclusionProof(position=position, size=cp.size, leaf_hash=_b64(tree.leaf(position)),
                          root=_b64(cp.root), checkpoint=cp.note,
                          proof=[_b64(p) for p in tree.inclusion_proof(position, cp.size)])


@router.get("/proofs/consistency", response_model=ConsistencyProof,
            responses=problem_responses(401, 403, 404, 422, 429))
async def consistency(size1: Size, size2: Size, who: Annotated[Principal, Depends(AUDIT)],
                      st: St) -> ConsistencyProof:
    """Proof that checkpoint ``size1`` is a prefix of checkpoint ``size2``; check it with
    ``voxledger proof consistency``."""
    from services.ledger import reads
    from services.ledger.merkle import MerkleTree

    if size1 > size2:
        raise bad_request("size1: must not exceed size2")
    old = await _checkpoint(st, who.tenant_id, size1)
    new = await _checkpoint(st, who.tenant_id, size2)
    async with st.engine.connect() as conn:
        leaves = await reads.leaf_hashes(conn, who.tenant_id, new.size)
    proof = MerkleTree(leaves).consistency_proof(old.size, new.size)
    return ConsistencyProof(size1=old.size, size2=new.size, root1=_b64(old.root),
                            root2=_b64(new.root), proof=[_b64(p) for p in proof])
