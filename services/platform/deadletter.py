"""Dead letters: frames the pipeline could not use, one row per stream message, encrypted.

A member of a batch message (:mod:`schemas.batch`) is its own row (``member``: its index in the
batch; 0 for a single-frame message) keeping only that member's bytes.

Law 9: a malformed event never stops the pipeline. Law 7: the reason names the problem (a field
and an error code), never the content, and the raw bytes are kept only as ciphertext under a
fresh data key wrapped by the owning tenant's key (the tenant the subject names, or the
envelope's; ``_unknown`` when neither is a valid tenant id), so destroying a tenant's key
shreds its dead letters too. Every consumer that refuses the same stream message adds its name
to the one row (``consumers``) instead of keeping a copy of its own. Rows older than
``dead_letter_retention_days`` are purged by the consumers' maintenance.

Errors: :class:`DeadLetterError` (not found, no payload kept, cannot decrypt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.keys import KeyProvider, decrypt, encrypt, new_dek
from services.platform.orm import Base

UNKNOWN_TENANT = "_unknown"  # '_' cannot occur in a tenant id, so this never names a real one
# Dead letters' keys are bound to this reserved id instead of a session (AAD of the wrapping).
DEAD_LETTER_KEY_SESSION = "_dead_letters"
_TENANT = re.compile(r"[a-z0-9-]{1,63}")
_SESSION = re.compile(r"[A-Za-z0-9_-]{1,128}")


class DeadLetterError(Exception):
    """A dead letter is missing, keeps no payload, or its payload cannot be decrypted."""


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    stream_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    subject: Mapped[str] = mapped_column(String(512), nullable=False)
    member: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    consumer: Mapped[str] = mapped_column(String(64), nullable=False)  # the first to refuse it
    consumers: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    tenant_id: Mapped[str | None] = mapped_column(String(63))
    session_id: Mapped[str | None] = mapped_column(String(128))
    event_id: Mapped[str | None] = mapped_column(String(36))
    key_tenant: Mapped[str | None] = mapped_column(String(63))  # whose key wraps raw_dek
    raw_dek: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_length: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="open")
    retries: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    retried_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        Index("uq_dead_letters_stream_seq_subject_member", "stream_seq", "subject", "member",
              unique=True),
        Index("ix_dead_letters_tenant_received", "tenant_id", "received_at"),
        Index("ix_dead_letters_received_at", "received_at"),
    )


@dataclass(frozen=True)
class Letter:
    stream_seq: int
    subject: str
    reason: str
    raw: bytes
    tenant_id: str | None = None
    session_id: str | None = None
    event_id: str | None = None
    member: int = 0


def ids_from_subject(subject: str) -> tuple[str | None, str | None]:
    """Tenant and session a ``<prefix>.<tenant>.<session>.<kind>`` subject names, if valid."""
    parts = subject.split(".")
    if len(parts) != 4:
        return None, None
    tenant = parts[1] if _TENANT.fullmatch(parts[1]) else None
    session = parts[2] if _SESSION.fullmatch(parts[2]) else None
    return tenant, (session if tenant else None)


def raw_aad(key_tenant: str, stream_seq: int, member: int = 0) -> bytes:
    # A batch member's ciphertext is bound to its index too (rows before batches keep theirs).
    suffix = f"/{member}" if member else ""
    return f"voxledger/deadletter/v1/{key_tenant}/{stream_seq}{suffix}".encode()


async def record_dead_letter(conn: AsyncConnection, keys: KeyProvider | None, consumer: str,
                             letter: Letter) -> None:
    """Insert ``letter`` or add ``consumer`` to the row the same stream message already has.

    Without a key provider (a bare test harness) only the metadata is kept: never plaintext.
    """
    key_tenant = letter.tenant_id or UNKNOWN_TENANT
    wrapped = ct = None
    if keys is not None:
        dek = new_dek()
        wrapped = keys.wrap_dek(key_tenant, dek, DEAD_LETTER_KEY_SESSION)
        ct = encrypt(dek, letter.raw, raw_aad(key_tenant, letter.stream_seq, letter.member))
    stmt = pg_insert(DeadLetter).values(
        stream_seq=letter.stream_seq, subject=letter.subject[:512], member=letter.member,
        consumer=consumer,
        consumers=[consumer], reason=letter.reason[:2000], tenant_id=letter.tenant_id,
        session_id=letter.session_id, event_id=letter.event_id,
        key_tenant=key_tenant if keys is not None else None, raw_dek=wrapped, raw_ct=ct,
        raw_length=len(letter.raw))
    consumers = DeadLetter.__table__.c.consumers
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["stream_seq", "subject", "member"],
        set_={"consumers": func.array_cat(consumers, text(
            "CASE WHEN :c = ANY(dead_letters.consumers) THEN ARRAY[]::varchar[] "
            "ELSE ARRAY[CAST(:c AS varchar)] END").bindparams(c=consumer))}))


async def purge_expired(conn: AsyncConnection, retention_days: float,
                        now: datetime | None = None) -> int:
    """Delete dead letters older than the retention as of ``now`` (the injectable calendar
    clock; default the database's); returns how many."""
    cutoff: Any = (func.now() - timedelta(days=retention_days) if now is None
                   else now - timedelta(days=retention_days))
    result = await conn.execute(delete(DeadLetter).where(DeadLetter.received_at < cutoff))
    return int(result.rowcount or 0)


def summary(row: Any) -> dict[str, Any]:
    """Metadata of one dead letter, never its payload."""
    return {"id": row.id, "stream_seq": row.stream_seq, "subject": row.subject,
            "member": row.member,
            "tenant_id": row.tenant_id, "session_id": row.session_id, "event_id": row.event_id,
            "reason": row.reason, "consumers": list(row.consumers), "status": row.status,
            "retries": row.retries, "payload_bytes": row.raw_length,
            "payload_kept": row.raw_ct is not None,
            "received_at": row.received_at.isoformat(),
            "retried_at": row.retried_at.isoformat() if row.retried_at else None}


def decrypt_raw(row: Any, keys: KeyProvider) -> bytes:
    if row.raw_ct is None or row.raw_dek is None or row.key_tenant is None:
        projection = str(row.consumer).split("-", 1)[0]  # "audio-<tenant>" in per-tenant mode
        if projection != "sealer":  # a projection refused a sealed entry: nothing to re-publish
            raise DeadLetterError(
                f"dead letter {row.id} is the {projection} projection's: the event stays sealed "
                f"in the ledger; after a fix, `voxledger replay --projection {projection}` shows "
                "what the live projection lacks")
        raise DeadLetterError(f"dead letter {row.id} keeps no payload")
    try:
        dek = keys.unwrap_dek(row.key_tenant, row.raw_dek, DEAD_LETTER_KEY_SESSION)
        return decrypt(dek, row.raw_ct, raw_aad(row.key_tenant, row.stream_seq, row.member))
    except Exception:
        raise DeadLetterError(f"dead letter {row.id}: the payload cannot be decrypted (the "
                              "tenant's key was destroyed or this is another keyring)") from None


def select_letters(tenant: str | None, status: str | None, limit: int) -> Any:
    q = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if tenant is not None:
        q = q.where(DeadLetter.tenant_id == tenant)
    if status is not None:
        q = q.where(DeadLetter.status == status)
    return q


def mark_retried(ids: list[int]) -> Any:
    return (update(DeadLetter).where(DeadLetter.id.in_(ids))
            .values(status="retried", retries=DeadLetter.retries + 1, retried_at=func.now()))
