"""The composition root of erasure commands and the worker: one ForgetContext per process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from services.platform.forget import ForgetContext
from services.platform.settings import Settings


@asynccontextmanager
async def forget_context(settings: Settings, *, with_nats: bool = True
                         ) -> AsyncIterator[ForgetContext]:
    from services.platform.db import make_async_engine
    from services.platform.keys import LocalKeyProvider
    from services.platform.nats import connect
    from services.platform.s3 import make_s3_client

    engine = make_async_engine(settings, pool_size=4)
    nc = await connect(settings, name="voxledger-erasure") if with_nats else None
    try:
        yield ForgetContext(settings=settings, engine=engine, s3=make_s3_client(settings),
                            keys=LocalKeyProvider.from_file(settings.keyring_path),
                            clock=settings.clock(), nats=nc)
    finally:
        if nc is not None:
            await nc.close()
        await engine.dispose()
