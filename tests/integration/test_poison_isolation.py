"""Poison isolation in the consumer base, on the real NATS and Postgres.

A frame that passes the contract but that Postgres itself refuses inside the handler (here a
value cast to ``smallint``: SQLSTATE 22003, the class of error an oversized value used to raise
in the sealer) is found by bisection and dead-lettered once with a content-free reason, while
every other event of the batch commits, in both delivery modes (the ordered mode keeps its
delivery-sequence check: the handler sees stream order). A failure that is not the events' fault
(a refused connection) is retried with a growing delay and dead-letters nothing. Expired dead
letters are purged.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.batch import item_key
from services.platform.consumer import Delivered, HandlerDefaults
from services.platform.db import make_async_engine
from services.platform.deadletter import purge_expired
from services.platform.settings import Settings
from tests.integration.consumers import isolate, running, wait_for
from tests.integration.ledger_helpers import publish_small_session

pytestmark = pytest.mark.integration


class Casting(HandlerDefaults):
    """Casts a number derived from each event to smallint in Postgres: seqs listed in ``poison``
    get a value out of its range. Records the item keys (stream sequence, member) it committed."""

    def __init__(self, poison: set[int], ordered: bool, refuse_connections: int = 0) -> None:
        self.name = "unset"
        self.filter_subjects: list[str] = []
        self.ordered = ordered
        self.poison = poison
        self.refuse_connections = refuse_connections
        self.committed: list[int] = []
        self.attempts = 0

    async def handle(self, conn: AsyncConnection, batch: list[Delivered]) -> None:
        self.attempts += 1
        if self.refuse_connections > 0:
            self.refuse_connections -= 1
            raise ConnectionRefusedError("database unreachable")  # an outage, not the events
        for d in batch:
            value = 100_000 if d.envelope.seq in self.poison else d.envelope.seq
            await conn.execute(text("SELECT CAST(:v AS smallint)"), {"v": value})
        self.committed.extend(d.key for d in batch)


@pytest.mark.parametrize("ordered", [False, True])
async def test_a_poison_event_is_isolated_and_the_rest_commits(
        settings: Settings, tenant: str, session_id: str, ordered: bool) -> None:
    published = await publish_small_session(settings, tenant, session_id, frames=40)
    poison = {7, 31}
    handler = Casting(poison, ordered)
    isolate(handler, "poison", tenant)
    engine = make_async_engine(settings)

    async def letters() -> list[tuple[int, str, list[str]]]:
        async with engine.connect() as conn:
            return [(item_key(r.stream_seq, r.member), r.reason, list(r.consumers))
                    for r in await conn.execute(text(
                        "SELECT stream_seq, member, reason, consumers FROM dead_letters "
                        "WHERE tenant_id = :t AND :c = ANY(consumers)"),
                        {"t": tenant, "c": handler.name})]

    async def done() -> bool:
        return len(await letters()) == len(poison) and \
            len(set(handler.committed)) >= published - len(poison)

    try:
        async with running(settings, handler, batch_size=500):
            await wait_for(done, timeout=180)
        found = await letters()
        assert all(r == "handler_failed: DataError (sqlstate 22003)" for _, r, _ in found), found
        assert len(set(handler.committed)) == published - len(poison)
        assert not set(handler.committed) & {s for s, _, _ in found}
        if ordered:  # parts commit left to right: the handler saw stream order throughout
            firsts = list(dict.fromkeys(handler.committed))
            assert firsts == sorted(firsts)
        async with engine.connect() as conn:
            progress = (await conn.execute(text(
                "SELECT stream_seq, next_member FROM consumer_progress WHERE consumer = :c"),
                {"c": handler.name})).one()
        # the session is a few batch messages: the poison members split one across commits
        assert tuple(progress) == (max(handler.committed + [s for s, _, _ in found]) >> 16, 0)
    finally:
        await engine.dispose()


async def test_an_outage_backs_off_and_loses_nothing(
        settings: Settings, tenant: str, session_id: str,
        caplog: pytest.LogCaptureFixture) -> None:
    published = await publish_small_session(settings, tenant, session_id, frames=10)
    handler = Casting(set(), ordered=True, refuse_connections=3)
    isolate(handler, "outage", tenant)
    engine = make_async_engine(settings)

    async def all_applied() -> bool:
        return len(set(handler.committed)) >= published

    try:
        with caplog.at_level(logging.WARNING, logger="services.platform.consumer"):
            async with running(settings, handler, batch_size=500):
                await wait_for(all_applied, timeout=180)
        delays = [float(r.getMessage().rsplit("retrying in ", 1)[1].split()[0])
                  for r in caplog.records if "not committed" in r.getMessage()]
        assert delays == [0.5, 1.0, 2.0], delays  # growing (capped at 30 s), one per failure
        assert any("resumed after 3 failed attempt(s)" in r.getMessage() for r in caplog.records)
        async with engine.connect() as conn:
            assert (await conn.execute(text(
                "SELECT count(*) FROM dead_letters WHERE tenant_id = :t"), {"t": tenant})
            ).scalar_one() == 0
    finally:
        await engine.dispose()


async def test_dead_letters_past_retention_are_purged(settings: Settings, tenant: str) -> None:
    engine = make_async_engine(settings)
    try:
        async with engine.begin() as conn:
            for seq, age_days in ((-1001, 40), (-1002, 5)):
                await conn.execute(text(
                    "INSERT INTO dead_letters (stream_seq, subject, consumer, consumers, reason, "
                    "tenant_id, received_at) VALUES (:s, :subj, 'test', ARRAY['test'], 'x', :t, "
                    "now() - make_interval(days => :d))"),
                    {"s": seq, "subj": f"voice.{tenant}.s.event", "t": tenant, "d": age_days})
        async with engine.begin() as conn:
            await purge_expired(conn, 30.0)
            left = [int(s) for (s,) in await conn.execute(text(
                "SELECT stream_seq FROM dead_letters WHERE tenant_id = :t"), {"t": tenant})]
        assert left == [-1002]
        async with engine.begin() as conn:  # as of 30 days on (the injectable calendar clock)
            later = (await conn.execute(text("SELECT now() + interval '30 days'"))).scalar_one()
            await purge_expired(conn, 30.0, later)
            left = [int(s) for (s,) in await conn.execute(text(
                "SELECT stream_seq FROM dead_letters WHERE tenant_id = :t"), {"t": tenant})]
        assert left == []
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM dead_letters WHERE tenant_id = :t"), {"t": tenant})
        await engine.dispose()


async def test_erasing_a_session_deletes_its_dead_letters(settings: Settings, tenant: str) -> None:
    from services.platform.clock import SystemClock
    from services.platform.deadletter_forget import forgetter
    from services.platform.forget import DataClass, ForgetContext, ForgetScope

    engine = make_async_engine(settings)
    try:
        async with engine.begin() as conn:
            for seq, session in ((-2001, "gone"), (-2002, "kept")):
                await conn.execute(text(
                    "INSERT INTO dead_letters (stream_seq, subject, consumer, consumers, reason, "
                    "tenant_id, session_id) VALUES (:s, :subj, 'test', ARRAY['test'], 'x', :t, "
                    ":sess)"), {"s": seq, "subj": f"voice.{tenant}.{session}.event", "t": tenant,
                                "sess": session})
        ctx = ForgetContext(settings, engine, None, None, SystemClock())  # type: ignore[arg-type]
        scope = ForgetScope(tenant, ("gone",), "erasure:test")
        f = forgetter()
        assert (await f.dispose(ctx, scope, DataClass.RECORDINGS)).deleted == 0
        assert (await f.erase(ctx, scope)).deleted == 1
        async with engine.connect() as conn:
            left = [s for (s,) in await conn.execute(text(
                "SELECT session_id FROM dead_letters WHERE tenant_id = :t"), {"t": tenant})]
        assert left == ["kept"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM dead_letters WHERE tenant_id = :t"), {"t": tenant})
        await engine.dispose()
