"""``voxledger run`` freezes the process's long-lived objects once every consumer is warm."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from services.runner.main import freeze_after_warm_up


class _Consumer:
    def __init__(self) -> None:
        self.warmed = asyncio.Event()


async def test_freezes_only_after_every_consumer_warmed_up() -> None:
    consumers: list[Any] = [_Consumer(), _Consumer()]
    gc.unfreeze()
    task = asyncio.create_task(freeze_after_warm_up(consumers))
    try:
        consumers[0].warmed.set()
        await asyncio.sleep(0.01)
        assert not task.done() and gc.get_freeze_count() == 0
        consumers[1].warmed.set()
        await asyncio.wait_for(task, 10)
        assert gc.get_freeze_count() > 0
    finally:
        task.cancel()
        gc.unfreeze()  # the rest of the session collects as before
