"""Transcript tables. Text columns are PII-bearing: read them only through access-controlled
paths (the API issue adds roles); never log them. Erasure must delete every table here."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.orm import Base

# One text-search configuration for every tenant. English stemming suits the recorded calls
# today; a per-language column is the way out when tenants need other languages.
TS_CONFIG = "english"


def _session_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", "session_id"],
        ["transcript_sessions.tenant_id", "transcript_sessions.session_id"], ondelete="CASCADE")


class TranscriptSession(Base):
    """Per-session summary, the lock that serializes rebuilds, and the search filters."""

    __tablename__ = "transcript_sessions"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    agent: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timeline_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    frames: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    turns: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    interrupted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    has_tool_call: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    frame_errors: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # A fresh random value from every transaction that changes the builder's in-memory copy of
    # the session's sealed frames or writes its transcript rows (anything that deletes rows must
    # set one too): a copy made under the value the row still holds is the one the stored
    # transcript came from (see ``cache.py``); any other value means "re-read the session from
    # the ledger".
    frames_version: Mapped[UUID | None] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False)

    __table_args__ = (Index("ix_transcript_sessions_tenant_started", "tenant_id", "started_at"),)


class TranscriptTurn(Base):
    __tablename__ = "transcript_turns"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    turn_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)
    speaker: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    start_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    text: Mapped[str | None] = mapped_column(Text)
    generated_text: Mapped[str | None] = mapped_column(Text)
    heard_text: Mapped[str | None] = mapped_column(Text)
    approximate: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    heard_ms: Mapped[int | None] = mapped_column(BigInteger)
    generated_ms: Mapped[int | None] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(16))
    response_id: Mapped[str | None] = mapped_column(Text)
    withheld: Mapped[str | None] = mapped_column(String(32))
    # "audio" (spoken) or "text" (typed by the app, e.g. OpenAI ``input_text``).
    modality: Mapped[str] = mapped_column(String(8), nullable=False, server_default="audio")
    search: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(f"to_tsvector('{TS_CONFIG}'::regconfig, coalesce(heard_text, ''))",
                           persisted=True))

    __table_args__ = (
        _session_fk(),
        Index("ix_transcript_turns_search", "search", postgresql_using="gin"),
    )


class TranscriptToolCall(Base):
    __tablename__ = "tool_calls"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    call_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    arguments: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    is_error: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    started_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger)
    turn_id: Mapped[str | None] = mapped_column(Text)
    withheld: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (_session_fk(),)
