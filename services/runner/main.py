"""The composition root of ``voxledger run``: one process, every consumer, clean shutdown.

The sealer is the only :class:`~services.platform.consumer.BatchHandler` of the raw stream
(:func:`stream_factories`); every other consumer is a ledger
:class:`~services.ledger.follower.Projection` run by a :class:`~services.ledger.follower.Follower`
(:func:`projection_factories`). :func:`consumer_factories` names them all. A consumer can also run
alone (``voxledger run --only NAME``) to scale out.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.follower import Follower, Projection
from services.ledger.read_cache import SharedReads
from services.ledger.reader import make_reader
from services.platform.consumer import BatchHandler, PullConsumer
from services.platform.db import make_async_engine
from services.platform.nats import connect, ensure_stream
from services.platform.settings import Settings
from services.runner.cpu import Meters

log = logging.getLogger(__name__)

HandlerFactory = Callable[[Settings], BatchHandler]
SEALER = "sealer"
# Measured (bench/ledger_copy.py --sealer): the sealer's batch costs ~5% less client CPU on
# asyncpg than on psycopg, and its COPY half; both keep the batch in one transaction.
SEALER_DRIVER = "asyncpg"
ProjectionFactory = Callable[[Settings], Projection]


def stream_factories() -> dict[str, HandlerFactory]:
    """Consumers of the raw stream: the sealer alone."""
    from services.ledger.sealer import make_sealer

    return {"sealer": make_sealer}


def projection_factories() -> dict[str, ProjectionFactory]:
    """Projections of the sealed ledger."""
    from services.audio.consumer import make_audio_recorder
    from services.ledger.catalog import SessionCatalog
    from services.redaction.worker import make_redaction_worker
    from services.transcripts.consumer import make_transcripts

    return {
        "catalog": lambda s: SessionCatalog(),
        "audio": make_audio_recorder,
        "transcripts": make_transcripts,
        "redaction": make_redaction_worker,
    }


def consumer_factories() -> dict[str, HandlerFactory | ProjectionFactory]:
    """Every consumer ``run`` starts, by name (the sealer first)."""
    return {**stream_factories(), **projection_factories()}


def make_follower(settings: Settings, engine: AsyncEngine, projection: Projection,
                  shared: SharedReads | None = None) -> Follower:
    """A follower for ``projection``: audio bytes come from the ledger bucket when it asks;
    ``shared``: the process's decoded entries, which the projections in it read once."""
    reader = make_reader(settings, audio_bytes=projection.audio == "bytes", shared=shared)
    return Follower(engine, projection, reader, keys=reader.keys)


def consumer_options(settings: Settings, sealer: bool = False) -> dict[str, Any]:
    """What every consumer takes from the settings: the key provider for its dead letters, the
    ingest bounds it checks at decode (against the system clock, as the recorder stamps them),
    and how long dead letters are kept (by the calendar clock, shifted in retention tests); the
    sealer also its batch size."""
    from services.platform.keys import LocalKeyProvider

    return {"keys": LocalKeyProvider.from_file(settings.keyring_path),
            "limits": settings.envelope_limits(),
            "dead_letter_retention_days": settings.dead_letter_retention_days,
            "clock": settings.clock(),
            **({"batch_size": settings.sealer_batch_size} if sealer else {})}


def job_factories() -> dict[str, Callable[[Settings], Job]]:
    """Jobs that poll Postgres rather than the stream (erasure; retention adds its own)."""
    from services.erasure.worker import ErasureJob
    from services.retention.daily import RetentionJob

    return {"erasure": ErasureJob, "retention": RetentionJob}


class Job(Protocol):
    name: str

    async def run(self, stop: asyncio.Event) -> None: ...


async def run_all(settings: Settings, only: list[str] | None = None,
                  ready: asyncio.Event | None = None, api: bool = False) -> None:
    streams, projections = stream_factories(), projection_factories()
    factories = consumer_factories()
    jobs = job_factories()
    unknown = set(only or []) - set(factories) - set(jobs)
    if unknown:
        raise ValueError(f"unknown consumer(s) {sorted(unknown)}; known: "
                         f"{sorted([*factories, *jobs])}")
    job_names = [n for n in (only or list(jobs)) if n in jobs]
    names = [n for n in (only or list(factories)) if n in factories]
    built = {n: projections[n](settings) for n in names if n not in streams}
    engine = make_async_engine(settings, pool_size=2 * len(names) + 2 + sum(
        p.extra_connections for p in built.values()))
    # The sealer's batches run on asyncpg (entry rows by copy_records_to_table in the batch's
    # transaction; README "The sealer's write path"); every other consumer on psycopg.
    sealer_engine = (make_async_engine(settings, pool_size=3, driver=SEALER_DRIVER)
                     if SEALER in names else None)
    nc = await connect(settings, name="voxledger-run")
    await ensure_stream(settings, nc)
    # Projections sharing this process decode each ledger entry once between them.
    shared = SharedReads() if sum(n in projections for n in names) > 1 else None
    consumers: list[PullConsumer | Follower] = [
        PullConsumer(nc, sealer_engine if n == SEALER and sealer_engine else engine,
                     settings.stream_name, streams[n](settings),
                     **consumer_options(settings, sealer=n == SEALER))
        if n in streams
        else make_follower(settings, engine, built[n], shared) for n in names]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    meters = Meters()
    if settings.cpu_meter_dir is not None:
        meters.install(loop)
    tasks = [meters.task(c.handler.name, c.run()) for c in consumers]
    tasks += [meters.task(n, jobs[n](settings).run(stop)) for n in job_names]
    reporter = (asyncio.create_task(meters.report(settings.cpu_meter_dir), name="cpu-meters")
                if settings.cpu_meter_dir is not None else None)
    freezer = asyncio.create_task(freeze_after_warm_up(consumers), name="gc-freeze")
    api_task = asyncio.create_task(_api(settings, stop), name="api") if api else None
    log.info("running consumers: %s", ", ".join(names))
    if ready is not None:
        ready.set()
    try:
        done_or_stop = asyncio.create_task(stop.wait())
        finished, _ = await asyncio.wait([done_or_stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            if task is not done_or_stop and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for c in consumers:
            c.stop()
        # Each consumer finishes its in-flight batch (commit then ack) before we close.
        if tasks:  # `--only retention` with nothing else
            await asyncio.wait(tasks, timeout=15)
        for task in tasks:
            task.cancel()
        if api_task is not None:
            stop.set()
            await asyncio.wait([api_task], timeout=10)
        freezer.cancel()
        if reporter is not None:
            reporter.cancel()
            with contextlib.suppress(BaseException):
                await reporter
        with contextlib.suppress(Exception):
            await nc.flush(timeout=5)  # acks are fire-and-forget publishes: push them out
        for c in consumers:  # handlers holding connections of their own (the audio locks)
            with contextlib.suppress(Exception):
                await c.handler.close()
        await nc.close()
        for e in (engine, sealer_engine):
            if e is not None:
                await e.dispose()
        log.info("stopped")


async def freeze_after_warm_up(consumers: list[PullConsumer | Follower]) -> None:
    """Once every consumer has loaded what it keeps for the process's life (models, clients,
    modules: ~250,000 objects with the redaction model), take those objects out of the cyclic
    collector's full passes (``gc.freeze``). Each full pass walked all of them, ~150 ms of CPU,
    and the sealer's allocations set one off every few thousand events (bench/sealer_cpu.py
    --freeze at 24 live sessions: the collector's full passes went from 0.011 to 0.001 ms per
    sealed event). Reference counting still frees those objects; only cycles made of them are
    left uncollected."""
    await asyncio.gather(*(c.warmed.wait() for c in consumers))
    gc.collect()  # what is garbage now is not frozen with the rest
    gc.freeze()


async def _api(settings: Settings, stop: asyncio.Event) -> None:
    """The HTTP API beside the consumers. A port already taken stops the API, never the
    consumers (the recording must go on); the error names the setting to change."""
    from services.api.serve import make_server, serve

    try:
        await serve(make_server(settings), stop=stop)
    except (OSError, SystemExit, RuntimeError) as exc:
        log.error("API not started on %s:%s (%s); set VOXLEDGER_API_PORT", settings.api_host,
                  settings.api_port, type(exc).__name__)
