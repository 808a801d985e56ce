"""The tenant's journal: Voxledger's own control events sealed into the tenant's ledger.

Erasure (``erasure.requested|completed|refused``), retention (``retention.policy_changed``,
``retention.disposed``), legal holds (``hold.placed|released``), reads of recorded content
(``access.*``) and evidence exports (``evidence.exported``) are ledger entries like any call
event: a leaf in the tenant's Merkle tree, covered by the next signed checkpoint, provable with
an inclusion proof. They live in the reserved session :data:`JOURNAL_SESSION`, whose data key is
never destroyed by erasing a person, so the record of the erasure outlives what it erased.

:func:`append` seals synchronously: when it returns, the entry is committed (the access log's
"sealed before the content is returned"). It takes the tenant's tree row lock, so it serialises
with the sealer; it never signs (only the sealer holds the signing key): the sealer's
``maintain`` checkpoints the new entries within its cadence. :func:`wait_for_checkpoint` waits
for that when a caller needs a proof (erasure certificates, evidence custody).

Bodies must carry no PII (law 7): identifiers only as HMACs, ids, counts, reasons chosen by
staff. They are still encrypted like every payload. A body is JSON, at most 64 KiB, no NUL.

Errors: :class:`JournalError` (bad type or body; a checkpoint that did not come in time).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import uuid_utils
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from schemas.envelope import Direction, Envelope, Provider
from services.ledger import repository as repo
from services.ledger.journal_ids import JOURNAL_SESSION
from services.ledger.sealer import Sealer
from services.ledger.sealing import Fresh
from services.platform.keys import KeyProvider, new_dek
from services.platform.settings import Settings

MAX_BODY_BYTES: Final = 64 * 1024
_TYPE = re.compile(r"^(erasure|retention|hold|access|evidence|tenant|policy)\.[a-z0-9_.-]{1,64}$")


class JournalError(Exception):
    """A control event that cannot be journaled, or a checkpoint that did not arrive in time."""


@dataclass(frozen=True)
class JournalRef:
    tenant_id: str
    position: int
    event_id: str
    session_id: str
    seq: int
    recorded_at: datetime


class _NoSegments:
    """Control events carry no audio; a put would be a bug."""

    def put_segment(self, key: str, ciphertext: bytes) -> None:
        raise JournalError("journal events carry no audio")


def _check(type_: str, body: Mapping[str, Any]) -> dict[str, Any]:
    if not _TYPE.match(type_):
        raise JournalError(f"journal event type {type_!r} is not a known control namespace")
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(data.encode()) > MAX_BODY_BYTES:
        raise JournalError(f"journal body over {MAX_BODY_BYTES} bytes")
    if "\x00" in data or "\\u0000" in data:
        raise JournalError("journal body contains NUL")
    loaded: dict[str, Any] = json.loads(data)
    return loaded


async def append_in(conn: AsyncConnection, settings: Settings, keys: KeyProvider, tenant: str,
                    type_: str, body: Mapping[str, Any], *, now: datetime | None = None
                    ) -> JournalRef:
    """Seal one control event inside the caller's transaction (commit makes it durable)."""
    payload = _check(type_, body)
    at = now or datetime.now(UTC)
    await repo.lock_tree(conn, tenant)  # the same lock order as the sealer: tree, then sessions
    sessions = await repo.lock_sessions(conn, tenant, [JOURNAL_SESSION],
                                        lambda: keys.wrap_dek(tenant, new_dek()))
    seq = sessions[JOURNAL_SESSION].max_seq + 1
    env = Envelope(event_id=str(uuid_utils.uuid7()), tenant_id=tenant,
                   session_id=JOURNAL_SESSION, seq=seq, provider=Provider.CUSTOM,
                   direction=Direction.SYSTEM, type=type_, recorded_at=at, mono_ns=0,
                   payload=payload)
    sealer = Sealer(settings, keys, _NoSegments(), sign=False)  # type: ignore[arg-type]
    subject = f"{settings.subject_prefix}.{tenant}.{JOURNAL_SESSION}.system"
    await sealer.seal_tenant(conn, tenant, [Fresh(0, subject, env)], at)
    row = (await conn.execute(text(
        "SELECT position FROM ledger_entries WHERE tenant_id = :t AND event_id = :e"),
        {"t": tenant, "e": env.event_id})).one()
    return JournalRef(tenant, int(row[0]), env.event_id, JOURNAL_SESSION, seq, at)


async def append(engine: AsyncEngine, settings: Settings, keys: KeyProvider, tenant: str,
                 type_: str, body: Mapping[str, Any], *, now: datetime | None = None
                 ) -> JournalRef:
    """Seal one control event in its own transaction; committed when this returns."""
    async with engine.begin() as conn:
        return await append_in(conn, settings, keys, tenant, type_, body, now=now)


async def checkpoint_covering(conn: AsyncConnection, tenant: str, position: int
                              ) -> tuple[int, str] | None:
    """The smallest signed checkpoint (size, note) that includes ``position``, if any."""
    row = (await conn.execute(text(
        "SELECT size, note FROM ledger_checkpoints WHERE tenant_id = :t AND size > :p "
        "ORDER BY size LIMIT 1"), {"t": tenant, "p": position})).first()
    return (int(row[0]), str(row[1])) if row else None


async def wait_for_checkpoint(engine: AsyncEngine, ref: JournalRef, timeout_s: float = 30.0
                              ) -> tuple[int, str]:
    """Wait until the sealer has signed a checkpoint covering ``ref`` (it must be running)."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with engine.connect() as conn:
            found = await checkpoint_covering(conn, ref.tenant_id, ref.position)
        if found:
            return found
        if time.monotonic() >= deadline:
            raise JournalError(
                f"no signed checkpoint covers journal position {ref.position} after "
                f"{timeout_s:.0f}s; is the sealer running (`voxledger run`)?")
        await asyncio.sleep(0.25)
