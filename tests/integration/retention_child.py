"""A disposition run in a process of its own, for the kill -9 test:
``python -m tests.integration.retention_child TENANT``."""

from __future__ import annotations

import asyncio
import sys

from services.platform.settings import load_settings
from services.retention.context import forget_context
from services.retention.holds import Holds
from services.retention.job import run
from tests.integration.retention_registry import registry


async def main(tenant: str) -> None:
    async with forget_context(load_settings()) as ctx:
        await run(ctx, tenant, registry(), Holds())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
