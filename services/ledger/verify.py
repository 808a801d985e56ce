"""``voxledger verify``: recompute the ledger from its rows and objects, trusting only signatures.

Per tenant, inside one REPEATABLE READ snapshot (the sealer may keep writing):

1. every entry in position order: positions gapless from 0; the leaf recomputed from the row
   (payload hash taken from the ciphertext itself) must equal the sealed leaf hash;
2. the tree rebuilt from the recomputed leaves must reproduce every checkpoint root; each
   checkpoint's Ed25519 signature must verify and its WORM copy must be byte-identical; each
   checkpoint must be consistent with the next (RFC 9162 §2.1.4.2); the tree state row must match;
3. raw audio: every segment object's ciphertext hash, its decryption under the session key, and
   for each entry the SHA-256 of its audio slices against the leaf-committed ``audio_sha256``;
4. per session: seq gapless from 0 to the declared last seq, no seq sealed twice.

An :class:`Issue` names the first bad position (or object) and what is wrong. Erased sessions
(no data key) are reported, not failed (law 5).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger import reads
from services.ledger.checkpoint import NoteError, Verifier, open_checkpoint, origin_for
from services.ledger.journal_ids import is_reserved_session
from services.ledger.leaf import LeafFields, leaf_data
from services.ledger.merkle import MerkleTree, ProofError, leaf_hash, verify_consistency
from services.ledger.storage import LedgerStorage
from services.ledger.verify_audio import check_audio
from services.ledger.verify_report import Entries, Issue, Report
from services.platform.keys import KeyProvider

Progress = Callable[[str], None]
MAX_LEAF_ERRORS = 10  # a shifted ledger mismatches at every later position; name the first few


async def verify_ledger(engine: AsyncEngine, keys: KeyProvider, storage: LedgerStorage, *,
                        tenant: str | None = None, session: str | None = None,
                        progress: Progress = lambda _: None) -> Report:
    report = Report()
    async with engine.connect() as conn:
        names = await reads.tenants(conn, tenant)
    if tenant is not None and not names:
        report.errors.append(Issue(tenant, "no ledger for this tenant"))
    for name in names:
        async with engine.connect() as conn:
            # One snapshot per tenant: the sealer may be appending while we read.
            await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                await _verify_tenant(conn, keys, storage, name, session, report, progress)
    return report


async def _verify_tenant(conn: AsyncConnection, keys: KeyProvider, storage: LedgerStorage,
                         tenant: str, session: str | None, report: Report,
                         progress: Progress) -> None:
    report.tenants += 1
    entries = await _check_entries(conn, tenant, report, progress)
    tree = MerkleTree(entries.leaves)
    await _check_checkpoints(conn, keys, storage, tenant, tree, report)
    state = await reads.tree(conn, tenant)
    if state is not None and state.size != tree.size:
        report.errors.append(Issue(tenant, f"tree state says {state.size} entries, the ledger "
                                   f"holds {tree.size}", position=min(state.size, tree.size)))
    elif state is not None and state.root != tree.root():
        report.errors.append(Issue(tenant, "tree state root does not match the rebuilt tree"))
    await check_audio(conn, keys, storage, tenant, session, entries, report, progress)
    await _check_sessions(conn, tenant, session, entries, report)


async def _check_entries(conn: AsyncConnection, tenant: str, report: Report,
                         progress: Progress) -> Entries:
    out = Entries()
    expected = 0
    first_error = True
    bad = 0
    async for row in reads.iter_entries(conn, tenant):
        if row.position != expected and first_error:
            what = (f"missing entry (next stored position is {row.position})"
                    if row.position > expected else "position out of order")
            report.errors.append(Issue(tenant, what, position=expected))
            first_error = False
        ct_sha = hashlib.sha256(row.payload_ct).digest()
        leaf = _leaf(tenant, row, row.position, ct_sha)
        if leaf != row.leaf_hash:
            bad += 1
            if bad <= MAX_LEAF_ERRORS:
                where, what = _diagnose(tenant, row, ct_sha)
                report.errors.append(Issue(tenant, what, position=where, session=row.session_id))
        out.leaves.append(leaf)
        out.audio_sha[row.position] = row.audio_sha256
        out.seqs[row.session_id].append(row.seq)
        expected = row.position + 1
        report.entries += 1
        if report.entries % 50_000 == 0:
            progress(f"{report.entries} entries checked")
    if bad > MAX_LEAF_ERRORS:
        report.errors.append(Issue(tenant, f"{bad - MAX_LEAF_ERRORS} more entries do not match "
                                   "their sealed leaves"))
    return out


def _leaf(tenant: str, row: Any, position: int, ct_sha: bytes) -> bytes:
    return leaf_hash(leaf_data(LeafFields(
        tenant, position, row.event_id, row.session_id, row.seq, row.schema_version,
        row.provider, row.direction, row.type, row.recorded_at, row.mono_ns, ct_sha,
        row.audio_sha256)))


def _diagnose(tenant: str, row: Any, ct_sha: bytes) -> tuple[int, str]:
    """Name what happened at the first bad position, not just that a leaf differs."""
    p = row.position
    if ct_sha != row.payload_sha256:
        return p, "payload ciphertext altered (its hash differs from the sealed one)"
    # The leaf commits to the position, so a renumbered row still matches its old position.
    if p > 0 and _leaf(tenant, row, p - 1, ct_sha) == row.leaf_hash:
        return p - 1, (f"an entry was inserted here: the entry now at {p} was sealed at {p - 1}")
    if _leaf(tenant, row, p + 1, ct_sha) == row.leaf_hash:
        return p, (f"an entry was deleted here: the entry now at {p} was sealed at {p + 1}")
    return p, "entry does not match its sealed leaf (edited, moved or forged)"


async def _check_checkpoints(conn: AsyncConnection, keys: KeyProvider, storage: LedgerStorage,
                             tenant: str, tree: MerkleTree, report: Report) -> None:
    verifier = Verifier.from_public_key(origin_for(tenant), keys.signing_key(tenant))
    previous: tuple[int, bytes] | None = None
    for row in await reads.checkpoints(conn, tenant):
        report.checkpoints += 1
        obj = row.worm_key
        try:
            cp = open_checkpoint(row.note, verifier)
        except NoteError as exc:
            report.errors.append(Issue(tenant, f"checkpoint {row.size}: {exc}", object=obj))
            continue
        if cp.size != row.size or cp.root_hash != row.root:
            report.errors.append(Issue(tenant, f"checkpoint {row.size}: signed note says size "
                                       f"{cp.size}, not the stored size/root", object=obj))
            continue
        await _check_worm(storage, tenant, row, report)
        if cp.size > tree.size:
            report.errors.append(Issue(tenant, f"checkpoint {cp.size} covers entries the ledger "
                                       f"no longer has (it holds {tree.size})",
                                       position=tree.size))
            continue
        if cp.size and tree.root(cp.size) != cp.root_hash:
            start = previous[0] if previous else 0
            report.errors.append(Issue(
                tenant, f"tree rebuilt from the entries does not match checkpoint {cp.size}; "
                f"the first altered entry is in positions {start}..{cp.size - 1}",
                position=start, object=obj))
            continue
        if previous is not None and previous[0] > 0:
            try:
                verify_consistency(previous[0], cp.size, previous[1], cp.root_hash,
                                   tree.consistency_proof(previous[0], cp.size))
            except ProofError as exc:
                report.errors.append(Issue(tenant, f"checkpoint {previous[0]} is not consistent "
                                           f"with checkpoint {cp.size}: {exc}", object=obj))
        previous = (cp.size, cp.root_hash)


async def _check_worm(storage: LedgerStorage, tenant: str, row: Any, report: Report) -> None:
    try:
        body = await asyncio.to_thread(storage.get_checkpoint, row.worm_key)
    except Exception as exc:  # the object store answers with many exception types
        issue = Issue(tenant, f"checkpoint {row.size}: WORM copy unreadable "
                      f"({type(exc).__name__})", object=row.worm_key)
        # Not yet written is the outbox's normal state between commit and upload.
        (report.warnings if row.worm_written_at is None else report.errors).append(issue)
        return
    if body != row.note.encode():
        report.errors.append(Issue(tenant, f"checkpoint {row.size}: Postgres copy differs from "
                                   "the WORM object", object=row.worm_key))


async def _check_sessions(conn: AsyncConnection, tenant: str, session: str | None,
                          entries: Entries, report: Report) -> None:
    for row in await reads.sessions(conn, tenant, session):
        s = row
        report.sessions += 1
        if s.wrapped_dek is None:
            report.erased_sessions += 1
            report.warnings.append(Issue(tenant, "erased (data key destroyed)",
                                         session=s.session_id))
        seqs = entries.seqs.get(s.session_id, [])
        if len(seqs) != len(set(seqs)):
            report.errors.append(Issue(tenant, "a seq was sealed more than once",
                                       session=s.session_id))
        upto = max([*seqs, s.last_seq_declared if s.last_seq_declared is not None else -1])
        for first, last in await reads.seq_gaps(conn, tenant, s.session_id, upto):
            report.errors.append(Issue(tenant, f"seq gap {first}..{last}", session=s.session_id))
            break
        if not s.ended and not is_reserved_session(s.session_id):  # the journal never ends
            what = ("no session.ended after the idle timeout" if s.timed_out_at is not None
                    else "still open (no session.ended yet)")
            report.warnings.append(Issue(tenant, what, session=s.session_id))
