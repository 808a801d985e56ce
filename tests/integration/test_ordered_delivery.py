"""An ordered consumer (the sealer's mode) never skips a delivery it did not see.

A message JetStream delivered but the client never received (in flight when NATS restarted, or
answered into a dropped connection) leaves the consumer's later deliveries with stream sequences
above the committed one; a consumer that only compares stream sequences would commit past the
lost one and skip it forever (its redelivery, 300 s later, is below the committed position). Here
a second client steals one delivery from the durable consumer, on the real NATS, to make that
hole on purpose.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.batch import MEMBER_BITS
from services.platform.consumer import Delivered, HandlerDefaults
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.settings import Settings
from tests.integration.consumers import isolate, running, wait_for
from tests.integration.ledger_helpers import publish_small_session

pytestmark = pytest.mark.integration


class Thieved(HandlerDefaults):
    """An ordered handler that records what it applied; during its first batch another client
    takes the consumer's next delivery and never acks it."""

    ordered = True

    def __init__(self, settings: Settings) -> None:
        self.name = "unset"
        self.filter_subjects: list[str] = []
        self.settings = settings
        self.applied: list[int] = []
        self.stolen: int | None = None

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        if self.stolen is None:
            nc = await connect(self.settings, name="voxledger-test-thief")
            try:
                sub = await nc.jetstream().pull_subscribe_bind(durable=self.name,
                                                               stream=self.settings.stream_name)
                (msg,) = await sub.fetch(1, timeout=10)
                self.stolen = msg.metadata.sequence.stream
            finally:
                await nc.close()
        self.applied.extend(d.key for d in batch)


async def test_a_delivery_lost_in_flight_is_fetched_again_not_skipped(
        settings: Settings, tenant: str, session_id: str) -> None:
    # batches of 2 frames: 12 messages, so a delivery stolen after the first fetch has later ones
    published = await publish_small_session(settings, tenant, session_id, frames=10,
                                            batch_max_frames=2)
    handler = Thieved(settings)
    isolate(handler, "ordered", tenant)
    async def all_applied() -> bool:
        return len(set(handler.applied)) >= published

    async with running(settings, handler, batch_size=5):
        await wait_for(all_applied, timeout=120)
    assert handler.stolen is not None
    assert handler.stolen in {k >> MEMBER_BITS for k in handler.applied}, \
        "the stolen delivery was skipped"
    assert handler.applied == sorted(set(handler.applied)), "applied out of order or twice"
    assert len(handler.applied) == published


class Overtaken(HandlerDefaults):
    """An ordered handler whose first transaction finds its progress row moved by another
    writer (as a second instance committing the first message would); records each call."""

    ordered = True

    def __init__(self, settings: Settings) -> None:
        self.name = "unset"
        self.filter_subjects: list[str] = []
        self.settings = settings
        self.calls: list[list[int]] = []
        self.moved_to: int | None = None

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        self.calls.append([d.key for d in batch])
        if self.moved_to is None:
            self.moved_to = batch[0].stream_seq
            engine = make_async_engine(self.settings)
            try:
                async with engine.begin() as other:
                    await other.execute(text(
                        "UPDATE consumer_progress SET stream_seq = :s, next_member = 0 "
                        "WHERE consumer = :c"), {"s": self.moved_to, "c": self.name})
            finally:
                await engine.dispose()


async def test_a_progress_row_moved_by_another_writer_fails_the_batch_and_resumes_from_it(
        settings: Settings, tenant: str, session_id: str) -> None:
    published = await publish_small_session(settings, tenant, session_id, frames=10,
                                            batch_max_frames=2)
    handler = Overtaken(settings)
    isolate(handler, "ordered", tenant)

    async def rest_applied() -> bool:
        later = {k for call in handler.calls[1:] for k in call}
        return len(handler.calls) > 1 and len(later) >= published - len(
            [k for k in handler.calls[0] if k >> MEMBER_BITS == handler.moved_to])

    async with running(settings, handler, batch_size=5) as consumer:
        await wait_for(rest_applied, timeout=120)
        assert consumer.stats.failures >= 1  # the overtaken transaction rolled back
    first_message = {k for k in handler.calls[0] if k >> MEMBER_BITS == handler.moved_to}
    later = [k for call in handler.calls[1:] for k in call]
    assert first_message and not first_message & set(later), \
        "a message another writer committed was applied again"
    assert later == sorted(set(later)), "applied out of order or twice"
    assert len(later) == published - len(first_message)
    engine = make_async_engine(settings)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT stream_seq FROM consumer_progress WHERE consumer = :c"),
                {"c": handler.name})).one()
    finally:
        await engine.dispose()
    assert row[0] > handler.moved_to
