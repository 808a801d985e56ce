"""A durable JetStream pull consumer that commits before it acks.

Each batch: fetch, decode (bad frames → dead letters), run the handler inside one Postgres
transaction together with the consumer's progress row, commit, then ack. A failure before commit
acks nothing, so JetStream redelivers and the idempotent handler makes the effect exactly-once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import BigInteger, DateTime, Integer, String, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from schemas.envelope import Envelope, EnvelopeError, decode_envelope
from services.platform.deadletter import record_dead_letter
from services.platform.orm import Base

log = logging.getLogger(__name__)


class ConsumerProgress(Base):
    """The last stream sequence each consumer committed, written in the same transaction."""

    __tablename__ = "consumer_progress"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    batches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


@dataclass(frozen=True)
class Delivered:
    stream_seq: int
    subject: str
    envelope: Envelope


class BatchHandler(Protocol):
    name: str
    filter_subjects: list[str]

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        """Apply the batch idempotently inside ``conn``'s transaction."""


@dataclass
class ConsumerStats:
    delivered: int = 0
    dead_lettered: int = 0
    batches: int = 0
    failures: int = 0


class PullConsumer:
    def __init__(self, nc: Client, engine: AsyncEngine, stream: str, handler: BatchHandler,
                 *, batch_size: int = 500, fetch_timeout: float = 0.5) -> None:
        self.nc = nc
        self.engine = engine
        self.stream = stream
        self.handler = handler
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        js = self.nc.jetstream()
        config = ConsumerConfig(
            durable_name=self.handler.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=60,
            max_ack_pending=20_000,
            max_deliver=-1,
            filter_subjects=self.handler.filter_subjects,
        )
        sub = await js.pull_subscribe(self.handler.filter_subjects[0], durable=self.handler.name, stream=self.stream, config=config)
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                msgs = await sub.fetch(self.batch_size, timeout=self.fetch_timeout)
            except NatsTimeout:
                continue
            except Exception as exc:  # noqa: BLE001 - connection trouble: wait and retry
                log.warning("%s: fetch failed (%s); retrying", self.handler.name, type(exc).__name__)
                await asyncio.sleep(backoff)
                continue
            if not msgs:
                continue
            try:
                await self._process(msgs)
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - never ack what did not commit
                self.stats.failures += 1
                log.warning("%s: batch of %d not committed (%s: %s); will be redelivered",
                            self.handler.name, len(msgs), type(exc).__name__, str(exc)[:200])
                for msg in msgs:
                    try:
                        await msg.nak(delay=backoff)
                    except Exception:  # noqa: BLE001
                        pass
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _process(self, msgs: list[Msg]) -> None:
        good: list[Delivered] = []
        bad: list[tuple[Msg, str]] = []
        for msg in msgs:
            try:
                good.append(Delivered(msg.metadata.sequence.stream, msg.subject,
                                      decode_envelope(msg.data)))
            except EnvelopeError as exc:
                bad.append((msg, str(exc)))
        last = max(m.metadata.sequence.stream for m in msgs)
        async with self.engine.begin() as conn:
            for msg, reason in bad:
                await record_dead_letter(conn, self.handler.name, msg.metadata.sequence.stream,
                                         msg.subject, reason, msg.data)
            if good:
                await self.handler.handle(conn, good)
            stmt = pg_insert(ConsumerProgress).values(consumer=self.handler.name,
                                                      stream_seq=last, batches=1)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=["consumer"],
                set_={"stream_seq": func.greatest(ConsumerProgress.stream_seq, last),
                      "batches": ConsumerProgress.batches + 1, "updated_at": func.now()},
            ))
        for msg in msgs:
            await msg.ack()
        self.stats.delivered += len(good)
        self.stats.dead_lettered += len(bad)
        self.stats.batches += 1
