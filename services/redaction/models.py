"""Redaction and training-export tables.

``redacted_turns`` holds redacted text only (the raw text stays in ``transcript_turns``), and
findings as entity type, span and score, never values. ``redaction_consent`` is the latest consent
state per session and scope, projected from the system events. ``training_export_sessions`` is the
lineage an erasure follows to purge past exports. Erasure must delete the rows of a session in
every table here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.orm import Base


class RedactionPolicyRow(Base):
    """The tenant's current redaction policy (absent: the default policy)."""

    __tablename__ = "redaction_policies"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    policy_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False)


class ConsentRow(Base):
    """Latest consent event per (session, scope): a newer event (by recorded_at, seq) wins."""

    __tablename__ = "redaction_consent"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class RedactionSession(Base):
    """One ended session: what the transcript must reach before redaction, and what was redacted.

    ``expected_frames`` is ``session.ended``'s seq + 1 (seq is gapless from 0): the transcript has
    caught up when ``transcript_sessions.frames`` reaches it. ``source_frames`` is the transcript
    revision the stored redaction was made from."""

    __tablename__ = "redaction_sessions"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    expected_frames: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    source_frames: Mapped[int | None] = mapped_column(BigInteger)
    policy_hash: Mapped[str | None] = mapped_column(String(80))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    turns: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    findings: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The language detected in the call's text, and why the export holds it back (a call not
    # in the policy's language under ``other_languages: hold``); NULL: not held.
    language: Mapped[str | None] = mapped_column(String(16))
    held: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_redaction_sessions_tenant_redacted", "tenant_id",
                            "redacted_at"),)


class RedactedTurnRow(Base):
    """A turn's redacted heard text, keyed by turn id and policy hash."""

    __tablename__ = "redacted_turns"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    turn_id: Mapped[str] = mapped_column(Text, primary_key=True)
    policy_hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)
    speaker: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # NULL when withheld (recording paused) or nothing was heard.
    text: Mapped[str | None] = mapped_column(Text)
    withheld: Mapped[str | None] = mapped_column(String(32))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    detector_version: Mapped[str] = mapped_column(String(128), nullable=False)
    model: Mapped[str] = mapped_column(String(128), nullable=False)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)


class RedactedToolCallRow(Base):
    """A tool call with its arguments and result redacted (still valid JSON when they were),
    keyed by call id and policy hash; findings as key path, type and span, never values."""

    __tablename__ = "redacted_tool_calls"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    call_id: Mapped[str] = mapped_column(Text, primary_key=True)
    policy_hash: Mapped[str] = mapped_column(String(80), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    arguments: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    is_error: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    started_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger)
    withheld: Mapped[str | None] = mapped_column(String(32))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)


class TrainingExport(Base):
    __tablename__ = "training_exports"

    export_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    policy_hash: Mapped[str] = mapped_column(String(80), nullable=False)
    sessions: Mapped[int] = mapped_column(Integer, nullable=False)
    bucket: Mapped[str] = mapped_column(String(63), nullable=False)
    manifest_key: Mapped[str] = mapped_column(String(512), nullable=False)
    # NULL while the files are being written: lineage is committed before any upload, so an
    # erasure finds an export even when its writer died half-way.
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False)

    __table_args__ = (Index("ix_training_exports_tenant", "tenant_id"),)


class TrainingExportSession(Base):
    """Lineage: this session's redacted text is in this export (erasure purges it from there)."""

    __tablename__ = "training_export_sessions"

    export_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("training_exports.export_id", ondelete="CASCADE"),
        primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False)

    __table_args__ = (Index("ix_training_export_sessions_tenant_session", "tenant_id",
                            "session_id"),)
