"""The erasure worker inside ``voxledger run``: claims open requests and carries them out.

It is a job, not a stream consumer: requests live in Postgres. A request claimed by a worker
that died is taken again once its lease lapses (services/erasure/service.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.erasure.context import forget_context
from services.erasure.service import run_request
from services.platform.settings import Settings

log = logging.getLogger(__name__)
POLL_S = 1.0


class ErasureJob:
    name = "erasure"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        async with forget_context(self.settings) as ctx:
            while not stop.is_set():
                try:
                    rid = await run_request(ctx)
                except Exception:  # one bad request must not stop the worker; it is retried
                    log.exception("erasure worker: a request failed; retrying after its lease")
                    rid = None
                if rid is not None:
                    log.info("erasure worker: request %s processed", rid)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_S)
