"""Dead letters: frames a consumer could not use, kept with the reason and the raw bytes.

Law 9: a malformed event never stops the pipeline. The reason names the problem, never the
content; the raw bytes are kept so an operator can inspect and replay them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, LargeBinary, String, Text, func, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from services.platform.orm import Base


class DeadLetter(Base):
    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    consumer: Mapped[str] = mapped_column(String(64), nullable=False)
    stream_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    subject: Mapped[str] = mapped_column(String(512), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    raw: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )

    __table_args__ = (Index("uq_dead_letters_consumer_seq", "consumer", "stream_seq", unique=True),)


async def record_dead_letter(conn: AsyncConnection, consumer: str, stream_seq: int,
                             subject: str, reason: str, raw: bytes) -> None:
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    stmt = pg_insert(DeadLetter).values(consumer=consumer, stream_seq=stream_seq, subject=subject[:512],
                                        reason=reason[:2000], raw=raw)
    await conn.execute(stmt.on_conflict_do_nothing())


__all__ = ["DeadLetter", "insert", "record_dead_letter"]
