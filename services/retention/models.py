"""Retention and legal-hold tables. Ids, HMACs, counts and staff-chosen text only (law 7).

- ``retention_policies``: a tenant's period per data class, optionally for one named retention
  class (``session.started.retention_class``); ``days`` null means forever.
- ``retention_sessions``: each session's retention class and start time, read once from its
  sealed ``session.started`` (the ledger is the source; this is a cache the job fills).
- ``retention_runs`` / ``retention_run_items``: one disposition run and its (session, class)
  items with a status each, so a run killed half-way is completed by the next one.
- ``retention_disposals``: what has been disposed, once per (session, class): the job never
  disposes twice and never considers a disposed pair due again.
- ``legal_holds`` and ``legal_hold_objects``: holds (by session, subject HMAC or whole tenant)
  and the S3 object versions a hold switched object-lock legal hold ON for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.orm import Base


class RetentionPolicy(Base):
    __tablename__ = "retention_policies"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    data_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    # "" = the tenant's policy; a name = sessions started with that retention class.
    retention_class: Mapped[str] = mapped_column(String(64), primary_key=True)
    days: Mapped[int | None] = mapped_column(Integer)
    changed_by: Mapped[str] = mapped_column(String(128), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RetentionSession(Base):
    __tablename__ = "retention_sessions"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    retention_class: Mapped[str] = mapped_column(String(64), nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # "started" (read from session.started), "no-start" or "unreadable" (key destroyed).
    source: Mapped[str] = mapped_column(String(16), nullable=False)

    __table_args__ = (Index("ix_retention_sessions_started", "tenant_id", "started_at"),)


class RetentionRun(Base):
    __tablename__ = "retention_runs"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # running | done
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    journal_position: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_retention_runs_tenant_status", "tenant_id", "status"),)


class RetentionRunItem(Base):
    __tablename__ = "retention_run_items"

    run_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    data_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending|done|held|failed
    matter: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"))


class RetentionDisposal(Base):
    __tablename__ = "retention_disposals"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    data_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), nullable=False)
    disposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class LegalHold(Base):
    __tablename__ = "legal_holds"

    hold_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)  # session|subject|tenant
    session_id: Mapped[str | None] = mapped_column(String(128))
    subject_kind: Mapped[str | None] = mapped_column(String(16))
    subject_index: Mapped[str | None] = mapped_column(String(64))  # HMAC, never the value
    matter: Mapped[str] = mapped_column(String(128), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    placed_by: Mapped[str] = mapped_column(String(128), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    released_by: Mapped[str | None] = mapped_column(String(128))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)

    __table_args__ = (Index("ix_legal_holds_tenant", "tenant_id", "released_at"),)


class LegalHoldObject(Base):
    __tablename__ = "legal_hold_objects"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(63), primary_key=True)
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    version_id: Mapped[str] = mapped_column(String(1024), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), nullable=False)
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_legal_hold_objects_session", "tenant_id", "session_id"),)
