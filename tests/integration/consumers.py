"""Run a consumer in-process under a private durable name, and wait for its effects.

Tests give each handler a durable name and subject filter of their own tenant, so they neither
disturb nor depend on the shared consumers of `voxledger run`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from services.platform.consumer import BatchHandler, PullConsumer
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.settings import Settings
from services.runner.main import consumer_options


def isolate(handler: BatchHandler, kind: str, tenant: str, subjects: str = ">") -> BatchHandler:
    """Give ``handler`` a durable name and subject filter of the test's own tenant."""
    handler.name = f"{kind}-test-{tenant}"
    handler.filter_subjects = [f"voice.{tenant}.{subjects}"]
    return handler


@contextlib.asynccontextmanager
async def running(settings: Settings, handler: BatchHandler, *, batch_size: int = 2000,
                  stop_timeout: float = 120.0) -> AsyncIterator[PullConsumer]:
    nc = await connect(settings)
    engine = make_async_engine(settings)
    consumer = PullConsumer(nc, engine, settings.stream_name, handler, batch_size=batch_size,
                            **consumer_options(settings))
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        consumer.stop()
        await asyncio.wait_for(task, stop_timeout)
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_consumer(settings.stream_name, handler.name)
        await nc.close()
        await engine.dispose()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 300.0) -> None:
    """A liveness bound, not a timing assertion: fail only when nothing happens at all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached in time")
