"""The raw stream is a buffer (`voxledger run` on a private stack): once a session's end is sealed
and every consumer that sees it has acknowledged its frames, they leave JetStream; a consumer that
is behind holds the purge back. `voxledger replay` of the same run is identical."""

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
