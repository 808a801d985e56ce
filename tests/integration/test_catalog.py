"""The first consumer against real NATS and Postgres: counts once, ends, dead-letters garbage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import uuid_utils
from sqlalchemy import select, text

from schemas.envelope import Direction, Envelope, Provider, decode_envelope
from services.ledger.catalog import SessionCatalog
from services.ledger.catalog_models import SessionRow
from services.ledger.reader import SealedEvent
from services.platform.db import make_async_engine
from services.platform.deadletter import decrypt_raw
from services.platform.keys import LocalKeyProvider
from services.platform.nats import connect
from services.platform.settings import Settings
from services.recorder import Recorder
from tests.integration.consumers import isolate, running, wait_for

pytestmark = pytest.mark.integration


def as_sealed(position: int, env: Envelope) -> SealedEvent:
    return SealedEvent(env.tenant_id, position, env.session_id, position, "x", env, None, ())


def running_catalog(settings: Settings, tenant: str) -> Any:
    """A private durable consumer that sees only this test's tenant."""
    return running(settings, isolate(SessionCatalog(), "catalog", tenant), batch_size=100)


async def test_session_is_catalogued_once_even_when_redelivered(settings: Settings, tenant: str,
                                                                session_id: str) -> None:
    # One message per frame (an unbatched gateway): a retry of one frame reuses its event id.
    recorder = await Recorder.connect(settings, tenant, batch_max_frames=1)
    async with recorder.session(session_id, Provider.OPENAI_REALTIME) as s:
        await s.client({"type": "session.update", "session": {}})
        for _ in range(50):
            await s.server({"type": "response.output_audio.delta", "delta": "AAAA"})
        dup = await s.server({"type": "response.done", "response": {}})
    await recorder.flush()
    # A retried publish reuses the event id: JetStream's duplicate window drops it.
    nc = await connect(settings)
    js = nc.jetstream()
    from schemas.envelope import encode_envelope, subject_for

    ack = await js.publish(subject_for(dup), encode_envelope(dup),
                           headers={"Nats-Msg-Id": dup.event_id})
    assert ack.duplicate
    await nc.close()
    await recorder.close()

    engine = make_async_engine(settings)
    try:
        async def done() -> bool:
            async with engine.connect() as conn:
                row = (await conn.execute(select(SessionRow.__table__).where(
                    SessionRow.tenant_id == tenant))).mappings().first()
            return bool(row and row["events"] == 54 and row["ended_at"] is not None)

        async with running_catalog(settings, tenant) as consumer:
            await wait_for(done)
            # Redelivery of an already-committed batch must not count twice.
            again = [as_sealed(1, decode_envelope(encode_envelope(dup)))]
            # Nor a gateway republishing the same seq under a new event id (past the window).
            again.append(as_sealed(2, dup.model_copy(update={"event_id": str(uuid_utils.uuid7())})))
            async with engine.begin() as conn:
                await consumer.handler.handle(conn, again)
                await consumer.handler.handle(conn, again)
        async with engine.connect() as conn:
            row = (await conn.execute(select(SessionRow.__table__).where(
                SessionRow.tenant_id == tenant))).mappings().one()
        assert row["events"] == 54
        assert row["max_seq"] == 53
        assert row["last_seq_declared"] == 53
        assert row["provider"] == "openai-realtime"
        assert row["seq_holes"] == []
        assert row["kind_counts"] == {"system": 2, "event": 2, "audio": 50}
    finally:
        await engine.dispose()


async def test_garbage_is_dead_lettered_and_the_session_carries_on(
        settings: Settings, tenant: str, session_id: str) -> None:
    nc = await connect(settings)
    js = nc.jetstream()
    bad = [b"\x00\x01 not json", b'{"truncated": ', b"[]", b'{"event_id": 5}']
    for i, blob in enumerate(bad):
        await js.publish(f"voice.{tenant}.{session_id}.event", blob,
                         headers={"Nats-Msg-Id": f"{tenant}-bad-{i}"})
    await nc.close()
    recorder = await Recorder.connect(settings, tenant)
    async with recorder.session(session_id, Provider.GEMINI_LIVE) as s:
        await s.server({"setupComplete": {}})
    await recorder.close()

    engine = make_async_engine(settings)
    try:
        async def done() -> bool:
            async with engine.connect() as conn:
                n = (await conn.execute(text(
                    "SELECT count(*) FROM dead_letters WHERE subject LIKE :s"),
                    {"s": f"voice.{tenant}.%"})).scalar_one()
                row = (await conn.execute(select(SessionRow.__table__).where(
                    SessionRow.tenant_id == tenant))).mappings().first()
            return bool(n == len(bad) and row and row["events"] == 3)

        async with running_catalog(settings, tenant):
            await wait_for(done)
        async with engine.connect() as conn:
            reasons = (await conn.execute(text(
                "SELECT * FROM dead_letters WHERE subject LIKE :s ORDER BY stream_seq"),
                {"s": f"voice.{tenant}.%"})).all()
        # Kept encrypted under the tenant's key, readable with it (issue 12).
        keys = LocalKeyProvider.from_file(settings.keyring_path)
        assert [decrypt_raw(r, keys) for r in reasons] == bad
        assert all(bytes(r.raw_ct) != blob for r, blob in zip(reasons, bad, strict=True))
        assert {(r.tenant_id, r.session_id) for r in reasons} == {(tenant, session_id)}
        assert all(r.reason for r in reasons)
        assert "NUL" in reasons[0].reason
    finally:
        await engine.dispose()


async def test_late_events_are_counted_once_in_any_order(settings: Settings, tenant: str,
                                                         session_id: str) -> None:
    """Seqs arriving out of order leave holes that later events fill, each counted once."""

    # Handed straight to the handler (never published), so no shared consumer sees them.
    by_seq = {seq: Envelope(event_id=str(uuid_utils.uuid7()), tenant_id=tenant,
                            session_id=session_id, seq=seq, provider=Provider.CUSTOM,
                            direction=Direction.SERVER, type="transcript.final",
                            recorded_at=datetime.now(UTC), mono_ns=seq, payload={})
              for seq in range(5)}
    order = [0, 4, 2, 4, 1, 3, 0, 2]
    engine = make_async_engine(settings)
    try:
        for seq in order:
            async with engine.begin() as conn:
                await SessionCatalog().handle(conn, [as_sealed(seq, by_seq[seq])])
        async with engine.connect() as conn:
            row = (await conn.execute(select(SessionRow.__table__).where(
                SessionRow.tenant_id == tenant))).mappings().one()
        assert (row["events"], row["max_seq"], row["seq_holes"]) == (5, 4, [])
    finally:
        await engine.dispose()


def test_direction_enum_values_are_the_wire_values() -> None:
    assert [d.value for d in Direction] == ["client", "server", "system"]
