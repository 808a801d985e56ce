"""The per-consumer CPU meters of ``voxledger run`` (services/runner/cpu.py) and the bench's CPU
per event per component built from them."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.bench.measure import COMPONENTS, Usage, consumer_cpu, cpu_ms_per_event
from services.runner.cpu import Meters, read_reports


def _burn(seconds: float) -> None:
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass


async def _busy() -> None:
    for _ in range(3):
        _burn(0.02)
        await asyncio.sleep(0)
    await asyncio.to_thread(_burn, 0.05)  # charged through the thread pool
    await asyncio.create_task(_child())  # a task it creates inherits its meter


async def _child() -> None:
    _burn(0.03)


async def _idle() -> None:
    await asyncio.sleep(0.05)


def test_each_consumer_is_charged_its_own_cpu(tmp_path: Path) -> None:
    async def main() -> dict[str, float]:
        meters = Meters()
        meters.install(asyncio.get_running_loop())
        await asyncio.gather(meters.task("busy", _busy()), meters.task("idle", _idle()))
        meters.write(tmp_path)
        return meters.snapshot()["consumers"]

    got = asyncio.run(main())
    assert 0.14 <= got["busy"] < 0.3
    assert got["idle"] < 0.02
    (report,) = read_reports(tmp_path).values()
    assert report["consumers"]["busy"] == got["busy"]


def _fan_out(seconds: float) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:  # a pool of its own (the audio recorder's)
        list(pool.map(_burn, [seconds / 2] * 2))


def test_a_pool_used_inside_a_metered_thread_call_is_charged_too() -> None:
    async def main() -> dict[str, float]:
        meters = Meters()
        meters.install(asyncio.get_running_loop())
        await meters.task("fan", asyncio.to_thread(_fan_out, 0.1))
        return meters.snapshot()["consumers"]

    got = asyncio.run(main())
    assert 0.09 <= got["fan"] < 0.2


def test_uninstalled_meters_run_plain_tasks() -> None:
    async def main() -> dict[str, float]:
        meters = Meters()
        await meters.task("busy", _busy())
        return meters.snapshot()["consumers"]

    assert asyncio.run(main()) == {}


def test_cpu_per_event_splits_run_into_consumers_and_the_rest() -> None:
    before = {1: {"consumers": {"sealer": 1.0, "audio": 2.0}}}
    after = {1: {"consumers": {"sealer": 3.0, "audio": 2.5}},
             2: {"consumers": {"transcripts": 1.0}}}  # a process started in between
    consumers = consumer_cpu(before, after)
    assert consumers == {"sealer": 2.0, "audio": 0.5, "transcripts": 1.0}
    usage = {"run": Usage(cpu_s=4.0), "postgres": Usage(cpu_s=1.0), "load": Usage(cpu_s=0.5)}
    per = cpu_ms_per_event(usage, consumers, 1000)
    assert list(per) == list(COMPONENTS)
    assert per["sealer"] == 2.0 and per["transcripts"] == 1.0 and per["audio"] == 0.5
    assert per["run other"] == 0.5  # 4.0 s of run - 3.5 s metered
    assert per["postgres"] == 1.0 and per["load"] == 0.5 and per["nats"] == 0.0
