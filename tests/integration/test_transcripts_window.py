"""The rebuild window: a live session rebuilt at most once per window has its text back once
``maintain`` flushes due sessions, and the same rows as rebuilding on every batch once it ended."""

from __future__ import annotations

from typing import Any

import pytest
import uuid_utils
from sqlalchemy import Engine, delete

from schemas.envelope import Direction
from services.ledger.memory import MemoryLedger
from services.platform.db import make_async_engine
from services.platform.settings import Settings
from services.transcripts.bench import envelopes
from services.transcripts.consumer import TranscriptBuilder
from services.transcripts.models import TranscriptSession
from services.transcripts.reads import transcript

pytestmark = pytest.mark.integration


def _rows(engine: Engine, tenant: str, session: str) -> dict[str, Any]:
    with engine.connect() as conn:
        got = transcript(conn, tenant, session)
    assert got is not None
    return got


async def test_windowed_rebuilds_give_the_rows_of_rebuilding_every_batch(
        settings: Settings, tenant: str, sync_engine: Engine) -> None:
    envs = [e for _, e in envelopes(tenant, 1)]
    session = envs[0].session_id
    live, last = envs, envs[-1]
    ended = [last.model_copy(update={
        "seq": last.seq + 1, "event_id": str(uuid_utils.uuid7()), "direction": Direction.SYSTEM,
        "type": "session.ended", "payload": {"reason": "completed", "last_seq": last.seq}})]
    engine = make_async_engine(settings)
    try:
        results, flushed = [], []
        for n, every in enumerate((0.0, 3600.0)):
            t = f"{tenant}-{n}"
            ledger = MemoryLedger()
            batch = [e.model_copy(update={"tenant_id": t}) for e in live]
            builder = TranscriptBuilder(ledger, rebuild_every=every)
            for i in range(0, len(batch), 150):
                async with engine.begin() as conn:
                    await builder.handle(conn, ledger.seal(batch[i:i + 150]))
                await builder.maintain(engine)
            if every:
                assert (t, session) in builder._due  # the window held the last text back
                builder.rebuild_every = 0.0
                await builder.maintain(engine)
                assert not builder._due
            flushed.append([(r["turn_id"], r["text"]) for r in
                            _rows(sync_engine, t, session)["turns"]])
            async with engine.begin() as conn:
                await builder.handle(conn, ledger.seal([e.model_copy(update={"tenant_id": t})
                                                        for e in ended]))
            results.append(_rows(sync_engine, t, session))
        assert flushed[0] == flushed[1]
        assert results[0] == results[1]
        assert results[0]["turns"]
    finally:
        async with engine.begin() as conn:
            for n in range(2):
                await conn.execute(delete(TranscriptSession).where(
                    TranscriptSession.tenant_id == f"{tenant}-{n}"))
        await engine.dispose()
