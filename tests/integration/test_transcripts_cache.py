"""The builder's in-memory copy of a session's frames against real Postgres: a transcript written
by another instance, or a batch rolled back after the copy took it in, make the builder read the
session back from the ledger, so every rebuild writes what one instance alone writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import uuid_utils
from sqlalchemy import Engine, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.envelope import Direction, Envelope, Provider
from services.ledger.memory import MemoryLedger
from services.platform.db import make_async_engine
from services.platform.settings import Settings
from services.transcripts import repository
from services.transcripts.bench import envelopes
from services.transcripts.consumer import TranscriptBuilder
from services.transcripts.models import TranscriptSession
from services.transcripts.reads import transcript

pytestmark = pytest.mark.integration

BATCH = 100


def openai_session(tenant: str) -> list[Envelope]:
    """One simulated OpenAI GA session and its ``session.ended``."""
    envs = [e for _, e in envelopes(tenant, 4) if e.provider is Provider.OPENAI_REALTIME]
    last = envs[-1]
    ended = last.model_copy(update={
        "seq": last.seq + 1, "event_id": str(uuid_utils.uuid7()), "direction": Direction.SYSTEM,
        "type": "session.ended", "payload": {"reason": "completed", "last_seq": last.seq}})
    return [*envs, ended]


def batches(envs: list[Envelope], tenant: str) -> list[list[Envelope]]:
    mine = [e.model_copy(update={"tenant_id": tenant}) for e in envs]
    return [mine[i:i + BATCH] for i in range(0, len(mine), BATCH)]


@pytest.fixture
async def engine(settings: Settings, tenant: str) -> AsyncIterator[AsyncEngine]:
    engine = make_async_engine(settings)
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(TranscriptSession).where(
                TranscriptSession.tenant_id.startswith(tenant)))
        await engine.dispose()


def rows_of(sync_engine: Engine, tenant: str, session: str) -> dict[str, Any]:
    """The session's transcript rows, comparable across tenants (no tenant, no write times)."""
    S = TranscriptSession
    with sync_engine.connect() as conn:
        got = transcript(conn, tenant, session)
        row = conn.execute(select(S.__table__).where(
            S.tenant_id == tenant, S.session_id == session)).mappings().one()
    assert got is not None
    skip = ("tenant_id", "updated_at", "frames_version")
    return {**got, "session": {k: v for k, v in row.items() if k not in skip}}


async def handle(engine: AsyncEngine, builder: TranscriptBuilder, batch: list[Envelope],
                 commit: bool = True) -> None:
    """Seal ``batch`` (once) in the builder's ledger, then hand it to the builder."""
    ledger = builder.reader
    assert isinstance(ledger, MemoryLedger)
    async with engine.connect() as conn:
        await conn.begin()
        await builder.handle(conn, ledger.seal(batch))
        if commit:
            await conn.commit()
        else:  # the batch fails after the handler returned (e.g. the commit is lost)
            await conn.rollback()


async def test_two_instances_sharing_a_session_write_what_one_writes(
        tenant: str, engine: AsyncEngine, sync_engine: Engine) -> None:
    envs = openai_session(tenant)
    session = envs[0].session_id
    one, two = f"{tenant}-one", f"{tenant}-two"
    ledger, theirs_ledger = MemoryLedger(), MemoryLedger()
    alone = TranscriptBuilder(ledger, rebuild_every=0.0)
    a, b = (TranscriptBuilder(theirs_ledger, rebuild_every=0.0) for _ in range(2))
    reference = batches(envs, one)
    shared = batches(envs, two)
    assert len(shared) > 9
    for n, (mine, theirs) in enumerate(zip(reference, shared, strict=True)):
        await handle(engine, alone, mine)
        # b takes every third batch: a's copy misses b's frames, b's misses a's
        await handle(engine, b if n % 3 == 2 else a, theirs)
        assert rows_of(sync_engine, two, session) == rows_of(sync_engine, one, session), n
    # The copies were used: the lone builder read the session once, a and b after each other's
    # batches only (and never once the session ended).
    assert theirs_ledger.reads < len(shared) and ledger.reads == 1
    assert rows_of(sync_engine, two, session)["session"]["ended_at"] is not None


async def test_a_batch_rolled_back_after_the_handler_is_not_trusted(
        tenant: str, engine: AsyncEngine, sync_engine: Engine) -> None:
    envs = openai_session(tenant)
    session = envs[0].session_id
    one, two = f"{tenant}-one", f"{tenant}-two"
    alone = TranscriptBuilder(MemoryLedger(), rebuild_every=0.0)
    shared_ledger = MemoryLedger()
    a, b = (TranscriptBuilder(shared_ledger, rebuild_every=0.0) for _ in range(2))
    reference, shared = batches(envs, one), batches(envs, two)
    for mine in reference:
        await handle(engine, alone, mine)
    # a takes batches 0 and 1 in, but batch 1 never commits; meanwhile b applies batch 2, as
    # many frames as batch 1, so the session counts as many frames as a's copy; then batch 1
    # comes back (to a) and a carries on.
    await handle(engine, a, shared[0])
    await handle(engine, a, shared[1], commit=False)
    await handle(engine, b, shared[2])
    await handle(engine, a, shared[1])
    for batch in shared[3:]:
        await handle(engine, a, batch)
    assert rows_of(sync_engine, two, session) == rows_of(sync_engine, one, session)
    assert rows_of(sync_engine, two, session)["session"]["ended_at"] is not None
    assert not a.cache  # an ended session is not kept


async def test_a_rebuild_rolled_back_in_maintain_leaves_nothing_trusted(
        tenant: str, engine: AsyncEngine, sync_engine: Engine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy remembers the rows its rebuild wrote and the next rebuild writes only what
    differs: a rebuild whose transaction is lost must not be remembered as written."""
    envs = openai_session(tenant)
    session = envs[0].session_id
    one, two = f"{tenant}-one", f"{tenant}-two"
    alone = TranscriptBuilder(MemoryLedger(), rebuild_every=0.0)
    reference, mine = batches(envs, one), batches(envs, two)
    for batch in reference:
        await handle(engine, alone, batch)
    builder = TranscriptBuilder(MemoryLedger(), rebuild_every=3600.0)
    for batch in mine[:4]:  # the first rebuilt at once, the next ones due (inside the window)
        await handle(engine, builder, batch)
    assert builder._due
    builder.rebuild_every = 0.0
    real = repository.set_frames_versions

    async def lost(conn: Any, versions: Any) -> None:
        await real(conn, versions)
        raise RuntimeError("the commit is lost")

    monkeypatch.setattr(repository, "set_frames_versions", lost)
    with pytest.raises(RuntimeError):
        await builder.maintain(engine)
    monkeypatch.setattr(repository, "set_frames_versions", real)
    for batch in mine[4:]:
        await handle(engine, builder, batch)
    assert rows_of(sync_engine, two, session) == rows_of(sync_engine, one, session)
