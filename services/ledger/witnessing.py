"""The log side of C2SP tlog-witness: submit checkpoints, keep the cosignatures (Postgres + WORM).

The sealer calls :meth:`WitnessSubmitter.run` from its maintenance loop, after the WORM outbox.
Witness trouble never blocks sealing: every call has a timeout, each (witness, checkpoint) gets at
most ``witness_max_attempts`` tries, and failures are logged without content. A 409 answer tells
the witness's latest cosigned size; the next try proves consistency from there.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger.checkpoint import SIG_PREFIX, parse_note
from services.ledger.merkle import MerkleTree
from services.ledger.models import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerWormOutbox,
)
from services.ledger.storage import LedgerStorage, cosigned_key

log = logging.getLogger(__name__)
MAX_RESPONSE = 64 * 1024


class WitnessError(Exception):
    """A witness refused or could not be reached; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, status: int, message: str, body: bytes = b"") -> None:
        super().__init__(message)
        self.status, self.body = status, body


def request_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old_size}"] + [base64.b64encode(p).decode() for p in proof]
    return ("\n".join(lines) + "\n\n" + note).encode()


def post_checkpoint(url: str, body: bytes, timeout: float) -> str:
    """POST ``<url>/add-checkpoint``; the signature lines on 200, else :class:`WitnessError`."""
    req = urllib.request.Request(url.rstrip("/") + "/add-checkpoint", data=body, method="POST",
                                 headers={"Content-Type": "text/plain; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return bytes(resp.read(MAX_RESPONSE)).decode()
    except urllib.error.HTTPError as exc:
        raise WitnessError(exc.code, f"witness answered {exc.code}", exc.read(MAX_RESPONSE)
                           ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise WitnessError(0, f"witness unreachable ({type(exc).__name__})") from None


async def leaf_hashes(conn: AsyncConnection, tenant: str, size: int) -> list[bytes]:
    rows = await conn.execute(select(LedgerEntry.leaf_hash).where(
        LedgerEntry.tenant_id == tenant, LedgerEntry.position < size)
        .order_by(LedgerEntry.position))
    return [bytes(r[0]) for r in rows]


@dataclass(frozen=True)
class Cosigned:
    witness: str
    key_id: bytes
    line: str


async def add_checkpoint(conn: AsyncConnection, tenant: str, size: int, note: str, url: str,
                         old_size: int, timeout: float) -> list[Cosigned]:
    """One submission with a consistency proof from ``old_size`` (0: none)."""
    proof: list[bytes] = []
    if 0 < old_size < size:
        proof = MerkleTree(await leaf_hashes(conn, tenant, size)).consistency_proof(old_size)
    text = await asyncio.to_thread(post_checkpoint, url, request_body(old_size, proof, note),
                                   timeout)
    lines = [ln for ln in text.split("\n") if ln]
    if not lines or any(not ln.startswith(SIG_PREFIX) for ln in lines):
        raise WitnessError(200, "witness answer is not signature lines")
    sigs = parse_note(note + "".join(f"{ln}\n" for ln in lines)).signatures[-len(lines):]
    return [Cosigned(s.name, s.key_id, ln) for s, ln in zip(sigs, lines, strict=True)]


async def store(engine: AsyncEngine, storage: LedgerStorage, tenant: str, size: int, note: str,
                url: str, cosigned: list[Cosigned]) -> None:
    for c in cosigned:
        key = cosigned_key(tenant, size, hashlib.sha256(c.witness.encode()).hexdigest()[:16])
        # WORM first, like the checkpoints: the row is the index, the object is the record.
        await asyncio.to_thread(storage.put_cosigned, key, note + c.line + "\n")
        async with engine.begin() as conn:
            await conn.execute(pg_insert(LedgerCosignature).values(
                tenant_id=tenant, size=size, witness=c.witness, key_id=c.key_id,
                witness_url=url, line=c.line, worm_key=key).on_conflict_do_nothing())


class WitnessSubmitter:
    """Submits each tenant's newest checkpoint to every configured witness, bounded."""

    def __init__(self, urls: list[str], timeout: float, max_attempts: int) -> None:
        self.urls, self.timeout, self.max_attempts = urls, timeout, max_attempts
        self._sizes: dict[tuple[str, str], int] = {}  # (url, tenant) → witness's cosigned size
        self._attempts: dict[tuple[str, str, int], int] = {}

    async def run(self, engine: AsyncEngine, storage: LedgerStorage,
                  tenant: str | None = None) -> None:
        """Submit the newest checkpoint of ``tenant`` (a partition sealer's) or of every tenant."""
        if not self.urls:
            return
        async with engine.connect() as conn:
            c = LedgerCheckpoint
            latest = (select(c.tenant_id, func.max(c.size).label("size"))
                      .where(~exists().where(LedgerWormOutbox.tenant_id == c.tenant_id,
                                             LedgerWormOutbox.size == c.size),
                             true() if tenant is None else c.tenant_id == tenant)
                      .group_by(c.tenant_id).subquery())
            newest = (await conn.execute(
                select(c.tenant_id, c.size, c.note).join(latest, and_(
                    c.tenant_id == latest.c.tenant_id, c.size == latest.c.size))
                .order_by(c.tenant_id))).all()
            done = {(r[0], r[1], r[2]) for r in (await conn.execute(select(
                LedgerCosignature.tenant_id, LedgerCosignature.size,
                LedgerCosignature.witness_url).where(
                    true() if tenant is None else LedgerCosignature.tenant_id == tenant))).all()}
        for log, size, note in newest:
            for url in self.urls:
                if (log, size, url) in done:
                    self._sizes[(url, log)] = max(self._sizes.get((url, log), 0), size)
                    continue
                await self._submit(engine, storage, log, size, note, url)

    async def _submit(self, engine: AsyncEngine, storage: LedgerStorage, tenant: str, size: int,
                      note: str, url: str) -> None:
        tries = self._attempts.get((url, tenant, size), 0)
        if tries >= self.max_attempts:
            return
        self._attempts[(url, tenant, size)] = tries + 1
        old = self._sizes.get((url, tenant), 0)
        try:
            async with engine.connect() as conn:
                cosigned = await add_checkpoint(conn, tenant, size, note, url, old, self.timeout)
        except WitnessError as exc:
            if exc.status == 409 and exc.body.strip().isdigit():
                self._sizes[(url, tenant)] = int(exc.body.strip())  # retry from its size
                self._attempts[(url, tenant, size)] = tries  # a size probe is not a failure
                if int(exc.body.strip()) < size:
                    await self._submit(engine, storage, tenant, size, note, url)
                return
            log.warning("witness: checkpoint %d of tenant %s not cosigned (%s), try %d of %d",
                        size, tenant, exc, tries + 1, self.max_attempts)
            return
        await store(engine, storage, tenant, size, note, url, cosigned)
        self._sizes[(url, tenant)] = size
