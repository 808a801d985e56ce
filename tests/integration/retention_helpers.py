"""Shared pieces of the retention tests: sessions recorded days ago (through the recorder's
clock), sealed, recorded as audio and transcribed for the test's own tenant only."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from services.audio.consumer import AudioRecorder
from services.platform.forget import ForgetContext
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.retention.context import forget_context
from services.simulator import simulate
from tests.conftest import REPO
from tests.integration.consumers import wait_for
from tests.integration.ledger_helpers import TenantSealer
from tests.integration.test_transcripts_consumer import frames_kept, running_transcripts


async def record_aged(settings: Settings, tenant: str, ages: list[int], provider: str = "elevenlabs"
                      ) -> dict[int, Any]:
    """One simulated session per age (days ago), stamped by a recorder whose clock is shifted."""
    sims = {}
    for age in ages:
        aged = settings.model_copy(update={"clock_offset_days": -age})
        [sim] = await simulate(aged, provider, 1, 7000 + age, tenant)
        sims[age] = sim
    return sims


async def seal_record_transcribe(settings: Settings, sealer: TenantSealer, tenant: str,
                                 sims: dict[int, Any], sync_engine: Any) -> None:
    await sealer.wait_for(sum(s.events for s in sims.values()))
    rec = AudioRecorder(settings, sealer.keys, make_s3_client(settings), tenant=tenant)
    try:
        async def recorded() -> bool:
            await rec.poll(sealer.engine)
            return rec.completed >= len(sims)
        await wait_for(recorded)
    finally:
        await rec.close()
    check = frames_kept(sync_engine, tenant)
    async with running_transcripts(sealer.settings, tenant):  # its bounds (backfill) too
        await wait_for(lambda: check({s.session_id: s.events for s in sims.values()}))  # type: ignore[call-arg]


@asynccontextmanager
async def context(settings: Settings) -> AsyncIterator[ForgetContext]:
    async with forget_context(settings) as ctx:
        yield ctx


async def journal_types(ctx: ForgetContext, tenant: str) -> list[str]:
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT type FROM ledger_entries WHERE tenant_id = :t AND session_id = '_journal' "
            "ORDER BY position"), {"t": tenant})
        return [str(r[0]) for r in rows]


def cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "voxledger")
    return subprocess.run([exe, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)


async def acli(*args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(cli, *args)
