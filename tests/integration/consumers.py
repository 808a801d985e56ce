"""Run a consumer in-process under a private name, and wait for its effects.

Tests give each consumer a name of their own tenant, so they neither disturb nor depend on the
shared consumers of `voxledger run`. A stream consumer (the sealer) gets a durable of its own
filtered to the tenant's subjects; a ledger projection (catalog, transcripts, redaction, audio)
follows only the tenant's ledger, and :func:`running` also seals the tenant's stream for it with
a private sealer (shared by every projection the test runs, and by a ``TenantSealer`` the test
started itself).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from services.ledger.follower import Follower, ProjectionDefaults
from services.platform.consumer import BatchHandler, PullConsumer
from services.platform.db import make_async_engine
from services.platform.nats import connect
from services.platform.settings import Settings
from services.runner.main import consumer_options, make_follower

H = TypeVar("H")

# Sealers running in this process, by tenant: [holders, TenantSealer].
SEALERS: dict[str, list[Any]] = {}


def isolate(handler: H, kind: str, tenant: str, subjects: str = ">") -> H:
    """Give ``handler`` a name of the test's own tenant (and a stream consumer its subjects)."""
    handler.name = f"{kind}-test-{tenant}"  # type: ignore[attr-defined]
    if isinstance(handler, ProjectionDefaults):
        handler.tenant = tenant
    else:
        handler.filter_subjects = [f"voice.{tenant}.{subjects}"]  # type: ignore[attr-defined]
    return handler


@contextlib.asynccontextmanager
async def sealing(settings: Settings, tenant: str) -> AsyncIterator[None]:
    """A private sealer of ``tenant``'s subjects while inside: one per tenant, shared with every
    other holder (a ``TenantSealer`` the test started holds it until its ``stop``)."""
    from tests.integration.ledger_helpers import TenantSealer

    held = SEALERS.get(tenant)
    if held is None:
        await TenantSealer(settings, tenant).start()  # registers itself, held once
        held = SEALERS[tenant]
    else:
        held[0] += 1
    try:
        yield
    finally:
        held[0] -= 1
        if held[0] == 0 and SEALERS.get(tenant) is held:
            await held[1].stop()
            await held[1].close()


@contextlib.asynccontextmanager
async def running(settings: Settings, handler: Any, *, batch_size: int = 2000,
                  stop_timeout: float = 120.0, seal: bool = True
                  ) -> AsyncIterator[Any]:
    if isinstance(handler, ProjectionDefaults):
        assert handler.tenant is not None, "isolate() a projection to the test's tenant first"
        async with contextlib.AsyncExitStack() as stack:
            if seal:
                await stack.enter_async_context(sealing(settings, handler.tenant))
            yield await stack.enter_async_context(following(settings, handler, batch_size,
                                                            stop_timeout))
        return
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


@contextlib.asynccontextmanager
async def following(settings: Settings, projection: Any, batch_size: int = 2000,
                    stop_timeout: float = 120.0) -> AsyncIterator[Follower]:
    """Run a projection's follower (no sealer) while inside."""
    engine = make_async_engine(settings)
    follower = make_follower(settings, engine, projection)
    follower.batch_size = batch_size
    task = asyncio.create_task(follower.run())
    try:
        yield follower
    finally:
        follower.stop()
        await asyncio.wait_for(task, stop_timeout)
        with contextlib.suppress(Exception):
            await projection.close()
        await engine.dispose()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 300.0) -> None:
    """A liveness bound, not a timing assertion: fail only when nothing happens at all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached in time")


__all__ = ["BatchHandler", "following", "isolate", "running", "sealing", "wait_for"]
