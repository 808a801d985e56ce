"""CPU seconds per consumer inside one ``voxledger run`` process (the bench's CPU per event per
component).

The consumers of a group share a process, so the process's CPU time cannot say which of them
spent it. Each consumer's task runs under a :class:`Meter`: every step of the task (the code
between two awaits, where all of its event-loop CPU is spent) is timed with the thread's CPU
clock, and so is every function it hands to a thread pool (``asyncio.to_thread``: decoding,
interpreting, mixing; and what those hand to pools of their own, see :func:`_submit`). Tasks a
consumer creates inherit its meter (the task factory reads it from the context they are created
in). What no meter covers (the event loop's own
polling, other threads, imports) is the process's CPU minus the meters' sum.

Cost: two ``thread_time`` calls per task step and per thread-pool call, about a microsecond.
``write`` leaves ``<dir>/<pid>.json`` (replaced atomically) for the bench to read: each
consumer's CPU seconds and the whole process's.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import threading
import time
from collections.abc import Callable, Coroutine, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

_METER: contextvars.ContextVar[Meter | None] = contextvars.ContextVar("voxledger_cpu_meter",
                                                                       default=None)


class Meter:
    """CPU seconds spent for one consumer (added from the loop thread and pool threads)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds = 0.0
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds


class _Metered(Coroutine[Any, Any, T]):
    """A coroutine whose every step is charged to a meter."""

    __slots__ = ("_coro", "_meter")

    def __init__(self, coro: Coroutine[Any, Any, T], meter: Meter) -> None:
        self._coro, self._meter = coro, meter

    def send(self, value: Any) -> Any:
        t0 = time.thread_time()
        try:
            return self._coro.send(value)
        finally:
            self._meter.add(time.thread_time() - t0)

    def throw(self, *args: Any) -> Any:
        t0 = time.thread_time()
        try:
            return self._coro.throw(*args)
        finally:
            self._meter.add(time.thread_time() - t0)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, T]:
        return self._coro.__await__()


_plain_submit = ThreadPoolExecutor.submit


def _submit(self: ThreadPoolExecutor, fn: Callable[..., T], /, *args: Any, **kwargs: Any
            ) -> Future[T]:
    """``ThreadPoolExecutor.submit`` once meters are installed: a call submitted from a metered
    context is charged to its meter. That is a consumer's task (``run_in_executor`` submits in
    the task's context) and also a call of its already running in a pool (``asyncio.to_thread``
    runs it in a copy of that context), which may hand work to a pool of its own: the audio
    recorder reads a batch's parts from one, and those threads' CPU was nobody's (``run
    other``)."""
    meter = _METER.get()
    if meter is None:
        return _plain_submit(self, fn, *args, **kwargs)

    def timed() -> T:
        t0 = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            meter.add(time.thread_time() - t0)

    return _plain_submit(self, timed)


class Meters:
    """One meter per consumer name, installed on the running loop by :meth:`install`."""

    def __init__(self) -> None:
        self.meters: dict[str, Meter] = {}
        self.installed = False

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self.installed = True
        # Every pool of the process (the loop's default executor, and any a consumer makes).
        ThreadPoolExecutor.submit = _submit  # type: ignore[method-assign, assignment]

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            context = kwargs.get("context")
            meter = context.get(_METER) if context is not None else _METER.get()
            if meter is not None and not isinstance(coro, _Metered):
                coro = _Metered(coro, meter)
            return asyncio.Task(coro, loop=loop, **kwargs)

        loop.set_task_factory(factory)

    def task(self, name: str, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """``coro`` as a task charged to meter ``name`` (as are the tasks it creates), or a
        plain task when the meters are not installed."""
        if not self.installed:
            return asyncio.create_task(coro, name=name)
        meter = self.meters.setdefault(name, Meter(name))
        context = contextvars.copy_context()
        context.run(_METER.set, meter)
        return asyncio.get_running_loop().create_task(_Metered(coro, meter), name=name,
                                                      context=context)

    def snapshot(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "process_cpu_s": time.process_time(),
                "consumers": {n: m.seconds for n, m in sorted(self.meters.items())}}

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{os.getpid()}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot()))
        tmp.replace(path)

    async def report(self, directory: Path, every_s: float = 1.0) -> None:
        """Write the snapshot every ``every_s`` seconds until cancelled (then once more)."""
        try:
            while True:
                self.write(directory)
                await asyncio.sleep(every_s)
        finally:
            self.write(directory)


def read_reports(directory: Path) -> dict[int, dict[str, Any]]:
    """Every process's last snapshot under ``directory`` (unreadable files skipped)."""
    out: dict[int, dict[str, Any]] = {}
    if not directory.is_dir():
        return out
    for path in directory.glob("*.json"):
        try:
            data = json.loads(path.read_text())
            out[int(data["pid"])] = data
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out
