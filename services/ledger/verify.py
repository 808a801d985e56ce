"""``voxledger verify``: recompute the ledger from its rows and objects, trusting only signatures.

Per tenant, inside one REPEATABLE READ snapshot (the sealer may keep writing):

1. every entry in position order: positions gapless from 0; the leaf recomputed from the row
   (payload hash taken from the ciphertext itself) must equal the sealed leaf hash;
2. the tree rebuilt from the recomputed leaves must reproduce every checkpoint root; the WORM
   bucket is listed (all versions) and every checkpoint in it and in the database is checked
   against trusted keys only (verify_worm.py), never a key derived from the data keyring;
3. raw audio: every segment object's ciphertext hash, its decryption under the session key, and
   for each entry the SHA-256 of its audio slices against the leaf-committed ``audio_sha256``;
4. per session: seq gapless from 0 to the declared last seq, no seq sealed twice.

``since`` (a checkpoint note the auditor kept) limits the work to what came after it: the stored
leaf hashes before it must rebuild its root, and only later entries are recomputed.

An :class:`Issue` names the first bad position (or object) and what is wrong. Erased sessions
(no data key) are reported, not failed (law 5).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger import reads
from services.ledger.checkpoint import NoteError
from services.ledger.fastleaf import js, leaf_hash_of
from services.ledger.journal_ids import is_reserved_session
from services.ledger.merkle import MerkleTree, ProofError, root, verify_consistency
from services.ledger.storage import LedgerStorage
from services.ledger.trust import Trust
from services.ledger.verify_audio import check_audio
from services.ledger.verify_report import Entries, Issue, Report
from services.ledger.verify_worm import check_checkpoints
from services.platform.keys import KeyProvider

Progress = Callable[[str], None]
MAX_LEAF_ERRORS = 10  # a shifted ledger mismatches at every later position; name the first few


async def verify_ledger(engine: AsyncEngine, keys: KeyProvider, storage: LedgerStorage, *,
                        trust: Trust, tenant: str | None = None, session: str | None = None,
                        since: str | None = None, progress: Progress = lambda _: None) -> Report:
    report = Report(trust=trust.source)
    async with engine.connect() as conn:
        names = await reads.tenants(conn, tenant)
    if tenant is not None and not names:
        report.errors.append(Issue(tenant, "no ledger for this tenant"))
    for name in names:
        async with engine.connect() as conn:
            # One snapshot per tenant: the sealer may be appending while we read.
            await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                await _verify_tenant(conn, keys, storage, trust, name, session, since, report,
                                     progress)
    return report


async def _verify_tenant(conn: AsyncConnection, keys: KeyProvider, storage: LedgerStorage,
                         trust: Trust, tenant: str, session: str | None, since: str | None,
                         report: Report, progress: Progress) -> None:
    report.tenants += 1
    start, old_leaves = 0, []
    if since is not None:
        try:
            kept = trust.open(since, tenant)
        except NoteError as exc:
            report.errors.append(Issue(tenant, f"--since checkpoint: {exc}"))
            return
        old_leaves = await reads.stored_leaves(conn, tenant, kept.size)
        if len(old_leaves) != kept.size or root(old_leaves) != kept.root_hash:
            report.errors.append(Issue(tenant, f"the ledger's first {kept.size} entries no longer "
                                       "match the checkpoint you kept (rewritten or truncated)",
                                       position=min(len(old_leaves), kept.size)))
            return
        start = report.since_size = kept.size
    t0 = time.perf_counter()
    entries = await _check_entries(conn, tenant, start, report, progress)
    tree = MerkleTree(old_leaves + entries.leaves)
    report.entry_seconds += time.perf_counter() - t0
    checkpoints = await check_checkpoints(conn, storage, trust, tenant, tree, report, start)
    if since is not None and checkpoints and checkpoints[-1].size > start > 0:
        newest = checkpoints[-1]
        try:  # the auditor's checkpoint is a prefix of the newest one (RFC 9162 §2.1.4)
            verify_consistency(start, newest.size, tree.root(start), newest.root_hash,
                               tree.consistency_proof(start, newest.size))
        except ProofError as exc:
            report.errors.append(Issue(tenant, f"kept checkpoint {start} is not consistent with "
                                       f"checkpoint {newest.size}: {exc}"))
    state = await reads.tree(conn, tenant)
    if state is not None and state.size != tree.size:
        report.errors.append(Issue(tenant, f"tree state says {state.size} entries, the ledger "
                                   f"holds {tree.size}", position=min(state.size, tree.size)))
    elif state is not None and state.root != tree.root():
        report.errors.append(Issue(tenant, "tree state root does not match the rebuilt tree"))
    await check_audio(conn, keys, storage, tenant, session, entries, report, progress)
    await _check_sessions(conn, tenant, session, entries, report)


async def _check_entries(conn: AsyncConnection, tenant: str, start: int, report: Report,
                         progress: Progress) -> Entries:
    out = Entries()
    state = _Scan(start)
    tjs = js(tenant)
    async for rows in reads.scan_entries(conn, tenant, start):
        # Hash in a worker thread so the next chunk streams in meanwhile.
        await asyncio.to_thread(_hash_rows, tenant, tjs, rows, out, state, report)
        report.entries += len(rows)
        progress(f"{report.entries} entries checked")
    if state.bad > MAX_LEAF_ERRORS:
        report.errors.append(Issue(tenant, f"{state.bad - MAX_LEAF_ERRORS} more entries do not "
                                   "match their sealed leaves"))
    return out


class _Scan:
    def __init__(self, start: int) -> None:
        self.expected, self.first_error, self.bad = start, True, 0


def _hash_rows(tenant: str, tjs: str, rows: list[tuple[Any, ...]], out: Entries, st: _Scan,
               report: Report) -> None:
    leaves, audio_sha, seqs = out.leaves, out.audio_sha, out.seqs
    sha256 = hashlib.sha256
    for (position, event_id, session_id, seq, sv, provider, direction, type_, recorded,
         mono_ns, payload_ct, payload_sha, audio, sealed) in rows:
        if position != st.expected and st.first_error:
            what = (f"missing entry (next stored position is {position})"
                    if position > st.expected else "position out of order")
            report.errors.append(Issue(tenant, what, position=st.expected))
            st.first_error = False
        ct_sha = sha256(payload_ct).digest()
        leaf = leaf_hash_of(tjs, position, event_id, session_id, seq, sv, provider, direction,
                            type_, recorded, mono_ns, ct_sha, audio)
        if leaf != sealed:
            st.bad += 1
            if st.bad <= MAX_LEAF_ERRORS:
                row = SimpleNamespace(
                    position=position, event_id=event_id, session_id=session_id, seq=seq,
                    schema_version=sv, provider=provider, direction=direction, type=type_,
                    recorded=recorded, mono_ns=mono_ns, payload_sha256=payload_sha,
                    audio_sha256=audio, leaf_hash=sealed)
                where, what = _diagnose(tjs, row, ct_sha)
                report.errors.append(Issue(tenant, what, position=where, session=session_id))
        leaves.append(leaf)
        audio_sha[position] = audio
        seqs[session_id].append(seq)
        st.expected = position + 1


def _leaf(tjs: str, row: SimpleNamespace, position: int, ct_sha: bytes) -> bytes:
    return leaf_hash_of(tjs, position, row.event_id, row.session_id, row.seq, row.schema_version,
                        row.provider, row.direction, row.type, row.recorded, row.mono_ns, ct_sha,
                        row.audio_sha256)


def _diagnose(tjs: str, row: SimpleNamespace, ct_sha: bytes) -> tuple[int, str]:
    """Name what happened at the first bad position, not just that a leaf differs."""
    p = row.position
    if ct_sha != row.payload_sha256:
        return p, "payload ciphertext altered (its hash differs from the sealed one)"
    # The leaf commits to the position, so a renumbered row still matches its old position.
    if p > 0 and _leaf(tjs, row, p - 1, ct_sha) == row.leaf_hash:
        return p - 1, (f"an entry was inserted here: the entry now at {p} was sealed at {p - 1}")
    if _leaf(tjs, row, p + 1, ct_sha) == row.leaf_hash:
        return p, (f"an entry was deleted here: the entry now at {p} was sealed at {p + 1}")
    return p, "entry does not match its sealed leaf (edited, moved or forged)"


async def _check_sessions(conn: AsyncConnection, tenant: str, session: str | None,
                          entries: Entries, report: Report) -> None:
    for s in await reads.sessions(conn, tenant, session):
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
