"""Recording state per session and kind (``heard`` / ``unheard``): upload progress and results.

While ``status = 'recording'`` the row is the multipart upload's durable state (upload id, salt,
parts already stored); a restarted consumer resumes that upload. Hashes, duration and gaps are
written once at completion. No audio here: recordings live in S3 (``settings.bucket_audio``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.orm import Base


class AudioRecording(Base):
    __tablename__ = "audio_recordings"

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # recording | complete
    object_key: Mapped[str] = mapped_column(String(512), nullable=False)
    upload_id: Mapped[str | None] = mapped_column(String(1024))
    salt: Mapped[bytes] = mapped_column(LargeBinary(16), nullable=False)
    # [{"n": part number, "etag": as S3 returned it, "md5": of the bytes we sent}]
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    sample_rate: Mapped[int] = mapped_column(Integer, nullable=False)
    channels: Mapped[int] = mapped_column(Integer, nullable=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=-1)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    pcm_bytes: Mapped[int | None] = mapped_column(BigInteger)
    object_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the stored (encrypted) object
    pcm_sha256: Mapped[str | None] = mapped_column(String(64))  # of the decoded PCM frames
    gaps: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    restarts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
