"""Composition for retention commands: the forget context and the forgetters (one seam).

The forgetters come from ``services.erasure.registry`` (issue 14 composes every capability's
Forgetter there). Retention never defines its own: it disposes through the same
path as erasure.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from services.platform.db import make_async_engine
from services.platform.forget import ForgetContext, Forgetter
from services.platform.keys import LocalKeyProvider
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings


class NoRegistry(RuntimeError):
    """The forget registry is not installed; nothing can be disposed."""


def forgetters() -> Sequence[Forgetter]:
    """The composed registry: ``FORGETTERS`` (a tuple) or ``forgetters()`` of
    ``services.erasure.registry``, whichever it provides."""
    try:
        registry = importlib.import_module("services.erasure.registry")
    except ImportError:
        raise NoRegistry("the forget registry (services/erasure/registry.py) is missing: "
                         "retention disposes only through it") from None
    make = getattr(registry, "forgetters", None)
    found: Sequence[Forgetter] = make() if callable(make) else registry.FORGETTERS
    return tuple(found)


@asynccontextmanager
async def forget_context(settings: Settings) -> AsyncIterator[ForgetContext]:
    engine = make_async_engine(settings, pool_size=4)
    try:
        yield ForgetContext(settings=settings, engine=engine, s3=make_s3_client(settings),
                            keys=LocalKeyProvider.from_file(settings.keyring_path),
                            clock=settings.clock())
    finally:
        await engine.dispose()
