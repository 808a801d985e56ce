"""Batching at the tap, end to end on the real NATS and Postgres: a session the recorder SDK
published in batch messages is sealed with one ledger entry per frame, nothing lost; the same
batch published again (same batch id: JetStream drops it; a new id: the sealer drops every
member by event id) adds nothing; a poison member is dead-lettered alone while its siblings are
sealed."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import uuid_utils
from sqlalchemy import text

from schemas.batch import batch_headers, batch_id, encode_batch, is_batch_subject, split_batch
from schemas.envelope import Direction, Envelope, Provider, encode_envelope
from services.ledger.summary import ledger_summary
from services.platform.nats import connect
from services.platform.settings import Settings
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


async def _stored(settings: Settings, tenant: str, session: str) -> list[Any]:
    """The session's messages as JetStream holds them."""
    nc = await connect(settings)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(f"{settings.subject_prefix}.{tenant}.{session}.>",
                                 ordered_consumer=True)
        out = []
        try:
            while True:
                try:
                    out.append(await sub.next_msg(timeout=2))
                except TimeoutError:
                    return out
        finally:
            await sub.unsubscribe()
    finally:
        await nc.close()


async def _until(check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_a_batched_session_is_sealed_once_per_frame_and_a_replay_adds_nothing(
        settings: Settings, tenant: str, session_id: str) -> None:
    count = await publish_small_session(settings, tenant, session_id, frames=40)
    stored = await _stored(settings, tenant, session_id)
    assert all(is_batch_subject(m.subject) for m in stored)
    members = [len(split_batch(m.data, m.headers)) for m in stored]
    assert sum(members) == count and len(stored) < count  # 83 frames in 2 messages
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(count)
        nc = await connect(settings)
        try:
            js = nc.jetstream()
            again = await js.publish(stored[0].subject, stored[0].data,
                                     headers=dict(stored[0].headers or {}))
            assert again.duplicate  # the same batch id: JetStream dropped it
            await js.publish(stored[0].subject, stored[0].data, headers={
                **dict(stored[0].headers or {}), "Nats-Msg-Id": "replayed-" + session_id})
        finally:
            await nc.close()

        async def counted() -> bool:
            async with sealer.engine.connect() as conn:
                return (await ledger_summary(conn, tenant, session_id))["duplicates"] > 0
        await _until(counted)
    finally:
        await sealer.stop()
    try:
        async with sealer.engine.connect() as conn:
            summary = await ledger_summary(conn, tenant, session_id)
            seqs = [r[0] for r in await conn.execute(text(
                "SELECT seq FROM ledger_entries WHERE tenant_id = :t ORDER BY position"),
                {"t": tenant})]
        assert summary["duplicates"] == members[0]  # every member of the replay, by event id
        assert summary["ended"] and summary["gaps"] == [] and summary["entries"] == count
        assert seqs == list(range(count))  # one entry per frame, in seq order
        report = await sealer.verify()
        assert report.ok and report.entries == count
    finally:
        await sealer.close()


def _envelope(tenant: str, session: str, seq: int, type_: str = "response.done") -> bytes:
    return encode_envelope(Envelope(
        event_id=str(uuid_utils.uuid7()), tenant_id=tenant, session_id=session, seq=seq,
        provider=Provider.OPENAI_REALTIME, direction=Direction.SERVER, type=type_,
        recorded_at=datetime.now(UTC), mono_ns=seq * 1_000_000, payload={"type": type_}))


async def test_a_poison_member_is_dead_lettered_alone_and_its_siblings_sealed(
        settings: Settings, tenant: str, session_id: str) -> None:
    good = [_envelope(tenant, session_id, i) for i in range(4)]
    foreign = _envelope(tenant, session_id + "x", 0)  # names another session than the subject
    body = encode_batch([good[0], b'{"schema_version": 1, "event_id": 7}', good[1], foreign,
                         good[2], good[3]])
    nc = await connect(settings)
    try:
        await nc.jetstream().publish(
            f"{settings.subject_prefix}.{tenant}.{session_id}.batch", body,
            headers=batch_headers(batch_id([session_id, "poison"]), 6))
    finally:
        await nc.close()
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(4)

        async def lettered() -> bool:
            async with sealer.engine.connect() as conn:
                return int((await conn.execute(text(
                    "SELECT count(*) FROM dead_letters WHERE tenant_id = :t"),
                    {"t": tenant})).scalar_one()) == 2
        await _until(lettered)
    finally:
        await sealer.stop()
    try:
        async with sealer.engine.connect() as conn:
            letters = (await conn.execute(text(
                "SELECT member, reason, raw_length, session_id FROM dead_letters "
                "WHERE tenant_id = :t ORDER BY member"), {"t": tenant})).all()
            seqs = [r[0] for r in await conn.execute(text(
                "SELECT seq FROM ledger_entries WHERE tenant_id = :t ORDER BY position"),
                {"t": tenant})]
        assert seqs == [0, 1, 2, 3]  # the siblings, sealed in order
        assert [(m, r.split(":")[0]) for m, r, _, _ in letters] == [
            (1, "invalid envelope"), (3, "subject_mismatch")]
        assert letters[1][1] == "subject_mismatch: session"
        assert letters[1][2] == len(foreign)  # the member's bytes, not the whole batch
        assert {s for *_, s in letters} == {session_id}  # filed under the subject's session
    finally:
        await sealer.close()
