"""Ledger tables: sealed entries, the per-tenant tree, checkpoints, sessions, keys, audio index.

Nothing here holds PII in clear: payloads and subject identifiers are AES-256-GCM ciphertext under
the session's data key (``ledger_sessions.wrapped_dek``, itself wrapped by the tenant KEK), and
subjects are found through an HMAC index. Deleting ``wrapped_dek`` crypto-shreds a session while
every hash the proofs need stays in place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.orm import Base


class LedgerEntry(Base):
    """One sealed event. ``position`` is gapless per tenant and is the Merkle leaf index."""

    __tablename__ = "ledger_entries"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    session_id: Mapped[str] = mapped_column(String(128), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    stream_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    schema_version: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    type: Mapped[str] = mapped_column(String(128), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    mono_ns: Mapped[int] = mapped_column(BigInteger, nullable=False)
    payload_ct: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    payload_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    audio_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    sealed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (
        # Idempotency: JetStream may redeliver and gateways may republish past the dedupe window.
        Index("uq_ledger_entries_tenant_event", "tenant_id", "event_id", unique=True),
        Index("ix_ledger_entries_session_seq", "tenant_id", "session_id", "seq"),
    )


class LedgerTree(Base):
    """A tenant's running tree (RFC 9162 compact range), advanced in the sealing transaction."""

    __tablename__ = "ledger_trees"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    checkpoint_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LedgerCheckpoint(Base):
    """A signed C2SP checkpoint note. Append-only (grants and a trigger refuse UPDATE and DELETE);
    whether its WORM copy is written yet lives in :class:`LedgerWormOutbox`."""

    __tablename__ = "ledger_checkpoints"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)
    worm_key: Mapped[str] = mapped_column(String(512), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LedgerWormOutbox(Base):
    """A checkpoint whose WORM copy is not written yet: inserted with the checkpoint, deleted once
    the object exists (so the checkpoint row itself is never updated)."""

    __tablename__ = "ledger_worm_outbox"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LedgerKeyDestruction(Base):
    """Audit of every session key destroyed, written only by ``voxledger_destroy_session_key``
    (SECURITY DEFINER): who (the database role), when, why. Append-only like the ledger."""

    __tablename__ = "ledger_key_destructions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False)
    session_id: Mapped[str] = mapped_column(String(128), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    destroyed_by: Mapped[str] = mapped_column(String(63), nullable=False)
    had_key: Mapped[bool] = mapped_column(Boolean, nullable=False)
    destroyed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (Index("ix_ledger_key_destructions_session", "tenant_id", "session_id"),)


class LedgerSession(Base):
    """Per-session key and completeness statistics (law 2: gaps and duplicates are reported)."""

    __tablename__ = "ledger_sessions"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Null once erased: the session's payloads, subjects and audio become unreadable.
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary)
    entries: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    first_position: Mapped[int | None] = mapped_column(BigInteger)
    last_position: Mapped[int | None] = mapped_column(BigInteger)
    max_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=-1)
    missing: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    seq_conflicts: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    out_of_order: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    audio_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    started: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ended: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_seq_declared: Mapped[int | None] = mapped_column(BigInteger)
    end_reason: Mapped[str | None] = mapped_column(String(64))
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    timed_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When its raw frames left the JetStream buffer (services/ledger/buffer.py).
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class LedgerSubject(Base):
    """A subject identifier from ``session.started``: encrypted, found by its HMAC index."""

    __tablename__ = "ledger_subjects"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_index: Mapped[str] = mapped_column(String(64), nullable=False)
    value_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_ledger_subjects_index", "tenant_id", "subject_index"),)


class LedgerAudioSegment(Base):
    """A session's raw audio of one direction from one batch: one part of the batch's object.

    ``key`` is the part id the audio index (and each entry's reference) names; ``object_key``,
    ``object_offset`` and ``object_length`` locate its ciphertext in the batch object, ``codec``
    says how the plaintext was compressed before encryption and ``length`` is the uncompressed
    length. Rows sealed before batch objects have no ``object_key``: ``key`` is then the object,
    its whole body the ciphertext of uncompressed audio (services/ledger/segments.py).
    """

    __tablename__ = "ledger_audio_segments"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63), nullable=False)
    session_id: Mapped[str] = mapped_column(String(128), nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    first_position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    length: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ct_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    object_key: Mapped[str | None] = mapped_column(String(512))
    object_offset: Mapped[int | None] = mapped_column(BigInteger)
    object_length: Mapped[int | None] = mapped_column(BigInteger)
    codec: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (Index("ix_ledger_audio_segments_session", "tenant_id", "session_id"),
                      Index("ix_ledger_audio_segments_object", "object_key"))


class LedgerAudioRef(Base):
    """Entry → bytes ``[offset, offset+length)`` of a segment's plaintext (one per audio field)."""

    __tablename__ = "ledger_audio_refs"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), nullable=False)
    segment_key: Mapped[str] = mapped_column(String(512), nullable=False)
    offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    length: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)

    __table_args__ = (Index("ix_ledger_audio_refs_segment", "segment_key"),)


class LedgerCosignature(Base):
    """A witness's C2SP cosignature of one checkpoint (issue 16); insert-only.

    ``line`` is the signature line as the witness returned it; the cosigned note (checkpoint plus
    this line) is also written to the WORM bucket at ``worm_key``.
    """

    __tablename__ = "ledger_cosignatures"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(4), nullable=False)
    witness_url: Mapped[str] = mapped_column(String(1024), nullable=False)
    line: Mapped[str] = mapped_column(Text, nullable=False)
    worm_key: Mapped[str] = mapped_column(String(512), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class ProjectionPosition(Base):
    """How far a projection has applied a tenant's ledger: the next position it reads (so
    ``position == ledger_trees.size`` means caught up). Written in the same transaction as the
    projection's effect (the tracking record), so a restart resumes exactly where it stopped."""

    __tablename__ = "projection_positions"

    projection: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
