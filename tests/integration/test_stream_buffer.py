"""The raw stream is a buffer (`voxledger run` on a private stack): once a session's end is sealed
and every consumer that sees it has acknowledged its frames, they leave JetStream; a consumer that
is behind holds the purge back. The sealer is the stream's only durable consumer of the pipeline:
projections follow the ledger, so one started after the purge still gets everything.
`voxledger replay` of the same run is identical."""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from sqlalchemy import text

from services.bench.private import PrivateStack, stop
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.settings import Settings
from tests.integration.consumers import wait_for

pytestmark = pytest.mark.e2e


async def _messages(settings: Settings, subject: str) -> int:
    nc = await connect(settings, name="test-buffer")
    try:
        info = await nc.jetstream().stream_info(settings.stream_name, subjects_filter=subject)
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()


async def test_sealed_sessions_leave_the_stream_once_every_consumer_has_them(
        stack: PrivateStack) -> None:
    settings = stack.settings()
    tenant = "t-" + secrets.token_hex(4)
    nc = await connect(settings, name="test-lagging")
    js = nc.jetstream()
    # A durable consumer that sees the tenant but never fetches: it must hold the purge back.
    from nats.js.api import AckPolicy, ConsumerConfig

    await js.add_consumer(settings.stream_name, ConsumerConfig(
        durable_name="lagging", filter_subject=f"voice.{tenant}.>", ack_policy=AckPolicy.EXPLICIT))
    proc = stack.run(stack.home / "logs" / "run-buffer.log",
                     VOXLEDGER_STREAM_PURGE_GRACE_S="0")
    engine = make_async_engine(settings)
    try:
        sims = json.loads(stack.vox("simulate", "--provider", "openai", "--sessions", "2",
                                    "--seed", "3", "--tenant", tenant, "--json").stdout)
        sessions = [s["session_id"] for s in sims["sessions"]]
        stack.vox("wait", "--timeout", "300", timeout=400)
        subject = f"voice.{tenant}.>"
        assert await _messages(settings, subject) > 0
        await asyncio.sleep(12)  # two sealer maintain cadences: a purge would have happened
        assert await _messages(settings, subject) > 0, "purged while a consumer was behind"

        await js.delete_consumer(settings.stream_name, "lagging")
        durables = [i.name for i in await js._jsm.consumers_info(settings.stream_name)]
        assert durables == ["sealer"]  # no projection reads the raw stream

        async def purged() -> bool:
            return await _messages(settings, subject) == 0

        await wait_for(purged, timeout=120)
        async with engine.connect() as conn:
            marked = (await conn.execute(text(
                "SELECT count(*) FROM ledger_sessions WHERE tenant_id = :t AND "
                "purged_at IS NOT NULL"), {"t": tenant})).scalar_one()
        assert marked == len(sessions)
        replayed = stack.vox("replay", "--tenant", tenant, "--json", check=False)
        assert replayed.returncode == 0, replayed.stdout[-1500:] + replayed.stderr[-1500:]
        verify = stack.vox("verify", "--tenant", tenant, "--json", check=False)
        assert verify.returncode == 0, verify.stdout[-1500:]
    finally:
        stop(proc)
        await nc.close()
        await engine.dispose()


async def test_a_projection_started_after_the_purge_gets_its_input_from_the_ledger(
        stack: PrivateStack) -> None:
    """The redaction worker loads its NLP model before it follows the ledger (minutes on a
    loaded machine): sessions sealed and purged from the stream meanwhile reach it anyway."""
    settings = stack.settings()
    tenant = "t-" + secrets.token_hex(4)
    logs = stack.home / "logs"
    early = stack.run(logs / "run-early.log", ["sealer", "catalog", "audio", "transcripts"],
                      VOXLEDGER_STREAM_PURGE_GRACE_S="0")
    late = None
    engine = make_async_engine(settings)
    subject = f"voice.{tenant}.>"
    try:
        stack.vox("simulate", "--provider", "openai", "--sessions", "1", "--seed", "5",
                  "--tenant", tenant, "--json")
        stack.vox("wait", "--timeout", "300", "--consumer", "sealer", "--consumer", "catalog",
                  "--consumer", "audio", "--consumer", "transcripts", timeout=400)

        async def purged() -> bool:
            return await _messages(settings, subject) == 0

        await wait_for(purged, timeout=120)  # no projection holds the stream's purge back
        late = stack.run(logs / "run-late.log", ["redaction"])

        async def redacted() -> bool:
            async with engine.connect() as conn:
                return bool((await conn.execute(text(
                    "SELECT count(*) FROM redaction_sessions WHERE tenant_id = :t AND "
                    "redacted_at IS NOT NULL"), {"t": tenant})).scalar_one())

        await wait_for(redacted, timeout=300)
    finally:
        stop(early)
        if late is not None:
            stop(late)
        await engine.dispose()
