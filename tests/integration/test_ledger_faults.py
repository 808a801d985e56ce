"""Acceptance: ``kill -9`` the sealer in the middle of 10 live sessions, restart it: no loss, no
duplicate, verify passes (law 1). Runs the real ``voxledger run --only sealer`` process, on a
private stack: on the shared one the all-tenant sealer first had to seal everything every earlier
test published (over two minutes of a full run)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.bench.private import PrivateStack
from services.ledger.summary import ledger_summary
from services.platform.nats import connect
from services.simulator import simulate
from tests.conftest import REPO
from tests.integration.ledger_helpers import TenantSealer, p99

pytestmark = [pytest.mark.integration, pytest.mark.faults]

# 10 concurrent sessions, every provider represented.
MIX = {"openai": 2, "openai-beta": 1, "gemini": 2, "elevenlabs": 1, "twilio": 2, "custom": 2}


def _start_sealer(stack: PrivateStack, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "services.cli", "run", "--only", "sealer"],
                                cwd=REPO, env=stack.env(), stdout=subprocess.DEVNULL, stderr=out)


async def _progress(sealer: TenantSealer) -> int:
    async with sealer.engine.connect() as conn:
        return int((await conn.execute(text(
            "SELECT coalesce(max(stream_seq), 0) FROM consumer_progress WHERE consumer = 'sealer'"
        ))).scalar_one())


async def _wait(check: Any, what: str, proc: subprocess.Popen[bytes], log: Path,
                timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if proc.poll() is not None:
            raise AssertionError(f"sealer exited ({proc.returncode}) while waiting for {what}: "
                                 + log.read_text()[-2000:])
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (is another sealer running?)")
        await asyncio.sleep(0.5)


async def test_kill_9_mid_session_loses_and_duplicates_nothing(stack: PrivateStack, tenant: str,
                                                               tmp_path: Path) -> None:
    assert sum(MIX.values()) == 10
    settings = stack.settings()
    sealer = TenantSealer(settings, tenant)  # used for reads and verify only, never started
    nc = await connect(settings)
    last = (await nc.jetstream().stream_info(settings.stream_name)).state.last_seq
    await nc.close()
    log = tmp_path / "sealer.log"
    try:
        await _kill_and_check(stack, tenant, sealer, last, log)
    finally:  # also when a wait fails: a leaked engine warns inside the next test
        await sealer.close()


async def _kill_and_check(stack: PrivateStack, tenant: str, sealer: TenantSealer, last: int,
                          log: Path) -> None:
    settings = stack.settings()
    publishing: asyncio.Future[list[Any]] | None = None
    proc = _start_sealer(stack, log)
    try:
        # Catch up with whatever earlier tests left in the stream first.
        async def caught_up() -> bool:
            return await _progress(sealer) >= last
        await _wait(caught_up, "the sealer to catch up with the stream", proc, log, 900)
        publishing = asyncio.gather(*(simulate(settings, provider, sessions=n, seed=11,
                                               tenant=tenant, realtime=True)
                                      for provider, n in MIX.items()))

        async def some_sealed() -> bool:
            return await sealer.count() > 5000
        # A liveness bound: the calls are real-time, so on a loaded machine this takes longer.
        await _wait(some_sealed, "entries of the live sessions", proc, log, 300)
        assert not publishing.done(), "sessions ended before the kill; the test proves nothing"
        killed_wall = datetime.now(UTC)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        killed_at = await sealer.count()
        await asyncio.sleep(2)
        proc = _start_sealer(stack, log)
        results = [r for group in await publishing for r in group]
        published = sum(r.events for r in results)

        async def all_sealed() -> bool:
            return await sealer.count() >= published
        await _wait(all_sealed, f"{published} entries", proc, log, 600)
        await asyncio.sleep(1)  # let the outbox write the last WORM checkpoint
    except BaseException:
        if publishing is not None:
            publishing.cancel()
            with contextlib.suppress(BaseException):
                await publishing
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    async with sealer.engine.connect() as conn:
        distinct, total = (await conn.execute(text(
            "SELECT count(DISTINCT event_id), count(*) FROM ledger_entries "
            "WHERE tenant_id = :t"), {"t": tenant})).one()
        assert distinct == total == published
        for r in results:
            summary = await ledger_summary(conn, tenant, r.session_id)
            assert summary["entries"] == r.events, r.session_id
            assert summary["gaps"] == [] and summary["ended"], r.session_id
            assert summary["duplicates"] == 0, r.session_id
        lags = [(float(x), bool(steady)) for (x, steady) in await conn.execute(text(
            "SELECT extract(epoch FROM sealed_at - recorded_at), sealed_at < :k "
            "FROM ledger_entries WHERE tenant_id = :t"), {"t": tenant, "k": killed_wall})]
    report = await sealer.verify()
    assert report.ok, [str(e) for e in report.errors]
    steady = [lag for lag, before in lags if before]
    print(f"\n[ledger faults] killed after {killed_at} of {published} entries; all sealed, "
          f"no duplicates. Publish→sealed lag of 10 real-time sessions before the kill: "
          f"p50 {sorted(steady)[len(steady) // 2]:.3f}s p99 {p99(steady):.3f}s; "
          f"overall p99 {p99([lag for lag, _ in lags]):.2f}s (includes the outage)")
