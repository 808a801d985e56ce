"""The disposition job inside ``voxledger run``: every tenant, at start and then every
``VOXLEDGER_RETENTION_JOB_INTERVAL_H`` hours (0 = off). A run a crash left unfinished is completed
by the next one, so a restart of ``run`` is harmless. Errors are logged and the job carries on
at the next interval (never retried in a loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from services.platform.forget import Forgetter
from services.platform.settings import Settings
from services.retention.context import NoRegistry, forget_context, forgetters
from services.retention.holds import Holds
from services.retention.job import RetentionBusy, run
from services.retention.policy import tenants_to_run

log = logging.getLogger(__name__)


async def run_once(settings: Settings, registry: Sequence[Forgetter] | None = None) -> int:
    """One pass over every tenant with work; returns how many (session, class) pairs were
    disposed. ``registry`` defaults to the composed forget registry."""
    registry = forgetters() if registry is None else registry
    disposed = 0
    async with forget_context(settings) as ctx:
        async with ctx.engine.connect() as conn:
            tenants = await tenants_to_run(conn, settings)
        for tenant in tenants:
            try:
                report = await run(ctx, tenant, registry, Holds())
            except RetentionBusy:
                log.info("retention: tenant %s is being disposed by another run", tenant)
                continue
            counts = report.as_json()["classes"]
            disposed += sum(c["disposed"] for c in counts.values())
            failed = sum(c["failed"] for c in counts.values())
            if failed:
                log.warning("retention: tenant %s: %d item(s) failed; retried next run",
                            tenant, failed)
    return disposed


class RetentionJob:
    """A ``voxledger run`` job (services/runner/main.py ``Job``): returns only when ``stop`` is
    set, also when it is off or cannot work (a job that returned would stop ``run``)."""

    name = "retention"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.settings.retention_job_interval_h * 3600
        if interval <= 0:
            log.info("retention job off (VOXLEDGER_RETENTION_JOB_INTERVAL_H=0)")
            await stop.wait()
            return
        while not stop.is_set():
            try:
                n = await run_once(self.settings)
                log.info("retention: %d (session, class) pair(s) disposed", n)
            except NoRegistry as exc:
                log.error("retention job idle: %s", exc)
                await stop.wait()
                return
            except Exception as exc:  # logged without content; the next interval tries again
                log.error("retention run failed (%s); next attempt in %.0f h",
                          type(exc).__name__, interval / 3600)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
