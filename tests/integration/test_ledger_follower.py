"""Projections follow the sealed ledger by position (services/ledger/follower.py) against real
Postgres, NATS and S3: a restart resumes from the stored position, the sealer's NOTIFY wakes a
follower that never polls, erased sessions and reserved ones yield nothing, a bad event is
dead-lettered and the rest applied, and ``transcript_frames`` is gone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger.follower import Follower, ProjectionDefaults
from services.ledger.key_destruction import destroy_session_key
from services.ledger.read_cache import SharedReads
from services.ledger.reader import AudioMode, SealedEvent, make_reader
from services.platform.db import make_async_engine
from services.platform.settings import Settings
from tests.integration.consumers import wait_for
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


class Seen(ProjectionDefaults):
    """Remembers what it applied; fails (a content error) on one position if asked."""

    def __init__(self, name: str, tenant: str, *, fail_at: int | None = None,
                 system_only: bool = False, audio: AudioMode = "lengths") -> None:
        self.name, self.tenant, self.fail_at = name, tenant, fail_at
        self.system_only, self.audio = system_only, audio
        self.seen: list[SealedEvent] = []

    async def handle(self, conn: AsyncConnection, batch: list[SealedEvent]) -> None:
        if any(e.position == self.fail_at for e in batch):
            raise ValueError("cannot apply")
        self.seen.extend(batch)


async def sealed(settings: Settings, tenant: str, sessions: list[str], frames: int = 10) -> int:
    """Publish and seal ``sessions``; returns the tenant's ledger size."""
    total = 0
    for s in sessions:
        total += await publish_small_session(settings, tenant, s, frames=frames)
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(total)
    finally:
        await sealer.stop()
        await sealer.close()
    return total


async def position(engine: AsyncEngine, name: str, tenant: str) -> int | None:
    async with engine.connect() as conn:
        return (await conn.execute(text(
            "SELECT position FROM projection_positions WHERE projection = :p AND tenant_id = :t"),
            {"p": name, "t": tenant})).scalar()


def follower(settings: Settings, engine: AsyncEngine, projection: Any,
             shared: SharedReads | None = None, **kw: Any) -> Follower:
    reader = make_reader(settings, audio_bytes=projection.audio == "bytes", shared=shared)
    return Follower(engine, projection, reader, keys=reader.keys, **kw)


async def test_a_restart_resumes_from_the_stored_position(settings: Settings, tenant: str,
                                                          session_id: str) -> None:
    size = await sealed(settings, tenant, [session_id])
    engine = make_async_engine(settings)
    name = f"seen-{tenant}"
    try:
        first = Seen(name, tenant)
        assert await follower(settings, engine, first, batch_size=10).round() == 10
        assert await position(engine, name, tenant) == 10
        # A new process: a new projection object, the same name.
        second = Seen(name, tenant)
        again = follower(settings, engine, second, batch_size=10)
        while await again.round():
            pass
        assert await position(engine, name, tenant) == size
        positions = [e.position for e in first.seen + second.seen]
        assert positions == list(range(size))  # each once, in order, none repeated
        assert [e.envelope.seq for e in first.seen + second.seen] == list(range(size))
        assert {e.session for e in second.seen} == {session_id}
        assert all(e.audio is None for e in second.seen)
    finally:
        await engine.dispose()


async def test_the_sealers_notify_wakes_a_follower_that_never_polls(settings: Settings,
                                                                     tenant: str) -> None:
    engine = make_async_engine(settings)
    seen = Seen(f"seen-{tenant}", tenant)
    f = follower(settings, engine, seen, poll_s=3600.0)
    task = asyncio.create_task(f.run())
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await asyncio.sleep(0.5)  # LISTENing; its first wake finds nothing
        size = await publish_small_session(settings, tenant, "s-one", frames=5)
        await wait_for(lambda: _at(engine, seen.name, tenant, size), timeout=120)
        size += await publish_small_session(settings, tenant, "s-two", frames=5)
        await wait_for(lambda: _at(engine, seen.name, tenant, size), timeout=120)
        assert f.notified >= 2
        assert [e.position for e in seen.seen] == list(range(size))
    finally:
        f.stop()
        await asyncio.wait_for(task, 60)
        await sealer.stop()
        await sealer.close()
        await engine.dispose()


async def _at(engine: AsyncEngine, name: str, tenant: str, size: int) -> bool:
    return await position(engine, name, tenant) == size


async def test_erased_sessions_yield_nothing_and_the_position_moves_past(
        settings: Settings, tenant: str) -> None:
    size = await sealed(settings, tenant, ["s-kept", "s-erased"], frames=3)
    engine = make_async_engine(settings)
    try:
        async with engine.begin() as conn:
            await destroy_session_key(conn, tenant, "s-erased", "test erasure")
        seen = Seen(f"seen-{tenant}", tenant)
        f = follower(settings, engine, seen)
        while await f.round():
            pass
        assert await position(engine, seen.name, tenant) == size
        assert {e.session for e in seen.seen} == {"s-kept"}
    finally:
        await engine.dispose()


async def test_projections_sharing_reads_decode_once_and_never_serve_an_erased_session(
        settings: Settings, tenant: str) -> None:
    size = await sealed(settings, tenant, ["s-kept", "s-erased"], frames=3)
    engine = make_async_engine(settings)
    shared = SharedReads()
    try:
        alone = Seen(f"alone-{tenant}", tenant)
        first = Seen(f"first-{tenant}", tenant, audio="none")
        for p, cache in ((alone, None), (first, shared)):
            f = follower(settings, engine, p, cache, batch_size=7)
            while await f.round():
                pass
        assert [e.position for e in first.seen] == list(range(size))
        assert shared.misses == size and shared.hits == 0
        # Destroyed while its entries are in memory: no later read serves them.
        async with engine.begin() as conn:
            await destroy_session_key(conn, tenant, "s-erased", "test erasure")
        second = Seen(f"second-{tenant}", tenant)
        system = Seen(f"system-{tenant}", tenant, system_only=True)
        for p in (second, system):
            f = follower(settings, engine, p, shared, batch_size=7)
            while await f.round():
                pass
            assert await position(engine, p.name, tenant) == size
        assert shared.misses == size and shared.hits > 0  # nothing decoded again
        kept = [e for e in alone.seen if e.session == "s-kept"]
        assert [(e.position, e.envelope.payload, e.audio_lengths) for e in second.seen] == [
            (e.position, e.envelope.payload, e.audio_lengths) for e in kept]
        assert [(e.session, e.envelope.type) for e in system.seen] == [
            ("s-kept", "session.started"), ("s-kept", "session.ended")]
        assert all(e.session == "s-kept" for e in shared._runs[tenant].events)
    finally:
        await engine.dispose()


async def test_system_only_and_audio_bytes(settings: Settings, tenant: str,
                                           session_id: str) -> None:
    size = await sealed(settings, tenant, [session_id], frames=3)
    engine = make_async_engine(settings)
    try:
        system = Seen(f"sys-{tenant}", tenant, system_only=True)
        audio = Seen(f"bytes-{tenant}", tenant, audio="bytes")
        for p in (system, audio):
            f = follower(settings, engine, p, batch_size=4)
            while await f.round():
                pass
            assert await position(engine, p.name, tenant) == size
        assert [e.envelope.type for e in system.seen] == ["session.started", "session.ended"]
        with_audio = [e for e in audio.seen if e.audio_lengths]
        assert len(with_audio) == 6
        assert all(e.audio is not None and [len(a) for a in e.audio] == list(e.audio_lengths)
                   for e in with_audio)
    finally:
        await engine.dispose()


async def test_an_event_the_projection_cannot_apply_is_dead_lettered(
        settings: Settings, tenant: str, session_id: str) -> None:
    size = await sealed(settings, tenant, [session_id], frames=5)
    engine = make_async_engine(settings)
    name = f"poison-{tenant}"
    try:
        seen = Seen(name, tenant, fail_at=7)
        f = follower(settings, engine, seen, batch_size=50)
        while await f.round():
            pass
        assert await position(engine, name, tenant) == size
        assert [e.position for e in seen.seen] == [p for p in range(size) if p != 7]
        async with engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT consumer, reason, session_id, raw_length FROM dead_letters "
                "WHERE tenant_id = :t"), {"t": tenant})).all()
        assert [(r.consumer, r.reason, r.session_id, r.raw_length) for r in rows] == [
            (name, "handler_failed: ValueError", session_id, 0)]
    finally:
        await engine.dispose()


async def test_transcript_frames_is_gone(settings: Settings) -> None:
    engine = make_async_engine(settings)
    try:
        async with engine.connect() as conn:
            gone = (await conn.execute(text("SELECT to_regclass('transcript_frames')"))).scalar()
            tracked = (await conn.execute(text(
                "SELECT to_regclass('projection_positions')"))).scalar()
        assert gone is None and tracked is not None
    finally:
        await engine.dispose()
