"""Checkpoint checks of ``verify`` that trust no pointer: the WORM bucket is listed, not looked up.

Every object under ``checkpoints/<tenant>/`` is read by its *first* version (the record: a later
version means someone wrote over a locked key, and is itself reported as tampering), its
signature checked against the trusted keys, and compared with the database and with the tree
rebuilt from the entries. A WORM checkpoint the database lacks, or one larger than the ledger,
means history was rolled back or truncated. Database checkpoints must be signed by a trusted key
and, once marked written, present in the bucket. With a policy, the newest checkpoint that the
witnesses' quorum cosigned (``cosigned/<tenant>/``) must also match the tree.
"""

from __future__ import annotations

import asyncio
from itertools import pairwise

from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import reads
from services.ledger.checkpoint import Checkpoint, NoteError
from services.ledger.merkle import MerkleTree, ProofError, verify_consistency
from services.ledger.storage import (
    CHECKPOINT_PREFIX,
    COSIGNED_PREFIX,
    LedgerStorage,
    checkpoint_key,
)
from services.ledger.trust import Trust
from services.ledger.verify_report import Issue, Report


async def read_first_versions(storage: LedgerStorage, prefix: str, tenant: str,
                              report: Report) -> dict[str, bytes]:
    """Key → bytes of its first version. A later version with other bytes is tampering; one
    with the same bytes is the outbox re-putting after a crash (idempotent, not an error)."""
    versions = await asyncio.to_thread(storage.list_versions, prefix)
    out: dict[str, bytes] = {}
    for key, vs in sorted(versions.items()):
        bodies = [None if v.get("DeleteMarker") else
                  await asyncio.to_thread(storage.get_version, key, str(v["VersionId"]))
                  for v in vs]
        if any(b != bodies[0] for b in bodies[1:]):
            report.errors.append(Issue(tenant, f"WORM object has {len(vs)} versions with other "
                                       "content: something was written over a locked checkpoint "
                                       "(tampering); the first version is the record",
                                       object=key))
        if bodies[0] is not None:
            out[key] = bodies[0]
    return out


async def check_checkpoints(conn: AsyncConnection, storage: LedgerStorage, trust: Trust,
                            tenant: str, tree: MerkleTree, report: Report, since: int = 0
                            ) -> list[Checkpoint]:
    db = {int(r.size): r for r in await reads.checkpoints(conn, tenant)}
    worm = await read_first_versions(storage, f"{CHECKPOINT_PREFIX}/{tenant}/", tenant, report)
    good: dict[int, Checkpoint] = {}
    for key, body in worm.items():
        report.worm_objects += 1
        try:
            cp = trust.open(body, tenant)
        except NoteError as exc:
            report.errors.append(Issue(tenant, f"WORM checkpoint: {exc}", object=key))
            continue
        if key != checkpoint_key(tenant, cp.size):
            report.errors.append(Issue(tenant, f"WORM checkpoint {cp.size} is stored under "
                                       "another size's name", object=key))
        row = db.get(cp.size)
        if row is None:
            report.errors.append(Issue(tenant, f"WORM checkpoint {cp.size} is missing from the "
                                       "database (history rolled back or checkpoints deleted)",
                                       object=key))
        elif row.note.encode() != body:
            report.errors.append(Issue(tenant, f"checkpoint {cp.size}: Postgres copy differs "
                                       "from the WORM object", object=key))
        if _against_tree(cp, tree, tenant, key, report, since):
            good[cp.size] = cp
    for size, row in sorted(db.items()):
        report.checkpoints += 1
        key = checkpoint_key(tenant, size)
        try:
            cp = trust.open(row.note, tenant)
        except NoteError as exc:
            report.errors.append(Issue(tenant, f"checkpoint {size}: {exc}", object=key))
            continue
        if cp.size != size or cp.root_hash != row.root:
            report.errors.append(Issue(tenant, f"checkpoint {size}: signed note says size "
                                       f"{cp.size}, not the stored size/root", object=key))
            continue
        if key not in worm:
            issue = Issue(tenant, f"checkpoint {size}: no WORM object in the bucket", object=key)
            # Not yet written is the outbox's normal state between commit and upload.
            (report.warnings if row.worm_pending else report.errors).append(issue)
            if _against_tree(cp, tree, tenant, key, report, since):
                good.setdefault(size, cp)
    ordered = [good[s] for s in sorted(good)]
    for a, b in pairwise(ordered):
        try:
            verify_consistency(a.size, b.size, a.root_hash, b.root_hash,
                               tree.consistency_proof(a.size, b.size))
        except ProofError as exc:
            report.errors.append(Issue(tenant, f"checkpoint {a.size} is not consistent with "
                                       f"checkpoint {b.size}: {exc}"))
    await _check_witnessed(storage, trust, tenant, tree, report)
    return ordered


def _against_tree(cp: Checkpoint, tree: MerkleTree, tenant: str, key: str, report: Report,
                  since: int) -> bool:
    if cp.size > tree.size:
        report.errors.append(Issue(tenant, f"checkpoint {cp.size} covers entries the ledger no "
                                   f"longer has (it holds {tree.size}): truncated",
                                   position=tree.size, object=key))
        return False
    if cp.size < since or cp.size == 0:
        return cp.size == 0 or tree.root(cp.size) == cp.root_hash
    if tree.root(cp.size) != cp.root_hash:
        report.errors.append(Issue(
            tenant, f"tree rebuilt from the entries does not match checkpoint {cp.size}",
            position=since, object=key))
        return False
    return True


async def _check_witnessed(storage: LedgerStorage, trust: Trust, tenant: str, tree: MerkleTree,
                           report: Report) -> None:
    policy = trust.policy
    if policy is None:
        return
    objects = await read_first_versions(storage, f"{COSIGNED_PREFIX}/{tenant}/", tenant, report)
    best: tuple[int, str] | None = None
    seen: dict[int, set[str]] = {}
    for key, body in objects.items():
        try:
            cp = trust.open(body, tenant)
        except NoteError as exc:
            report.errors.append(Issue(tenant, f"cosigned checkpoint: {exc}", object=key))
            continue
        names = seen.setdefault(cp.size, set())
        names.update(trust.cosigned_by(body))
        report.cosignatures += len(trust.cosigned_by(body))
        if cp.size > tree.size or (cp.size and tree.root(cp.size) != cp.root_hash):
            report.errors.append(Issue(tenant, f"witnessed checkpoint {cp.size} does not match "
                                       "the ledger (rewritten or truncated history)", object=key))
            continue
        if policy.satisfied(names) and (best is None or cp.size > best[0]):
            best = (cp.size, key)
    if policy.quorum == "none":
        return
    if best is None:
        report.errors.append(Issue(tenant, f"no checkpoint carries cosignatures meeting the "
                                   f"policy quorum {policy.quorum!r}"))
        return
    report.witnessed_size = best[0]
    if best[0] < tree.size:
        report.warnings.append(Issue(tenant, f"entries {best[0]}..{tree.size - 1} are not yet "
                                     "covered by a witnessed checkpoint"))
