"""Erasure tables: one row per request (its lifecycle and GDPR Art. 12 clock) and one per store.

No PII here: identifiers are kept only as their HMAC under the tenant pepper (the same index
``ledger_subjects`` uses); the staff reason is free text chosen by staff. Per-store rows are what
make the cascade crash-safe and honest: a store marked ``done`` is not run again on resume, and a
store that failed keeps its error while the others keep their counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.orm import Base


class ErasureRequest(Base):
    __tablename__ = "erasure_requests"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # subject | tenant
    # received → running → completed | refused | failed
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    identifiers: Mapped[list[dict[str, str]]] = mapped_column(JSONB, nullable=False)
    sessions: Mapped[list[str]] = mapped_column(JSONB, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    # The identifiers themselves, for the residue scan only: encrypted under a key of their own
    # (wrapped by the tenant KEK), both set to NULL once the request is closed.
    identifiers_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    identifiers_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    requested_position: Mapped[int | None] = mapped_column(BigInteger)
    closed_position: Mapped[int | None] = mapped_column(BigInteger)
    closed_event_id: Mapped[str | None] = mapped_column(String(36))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refused_reason: Mapped[str | None] = mapped_column(Text)
    residue: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)

    __table_args__ = (Index("ix_erasure_requests_tenant_status", "tenant_id", "status"),)


class ErasureStore(Base):
    __tablename__ = "erasure_stores"

    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("erasure_requests.request_id", ondelete="CASCADE"),
        primary_key=True)
    store: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending | done | failed
    deleted: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    shredded: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    beyond_use: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    detail: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)
