"""Prometheus metrics of ``voxledger run``, served on a loopback port (``metrics_listen``).

Every value is read from the durable state every ``metrics_poll_s``, not counted in memory by the
consumers: the ledger is append-only, so the number of sealed entries (``sum(ledger_trees.size)``)
is a true counter, and lag comes from JetStream's consumer state (the sealer) or the projections'
positions against the ledger heads. So one poller in the top
process (the supervisor, or the single process) is exact whatever the grouping of consumers into
child processes, survives their restarts, and costs the consumers nothing; no multiprocess files.
A scrape returns the last poll (the database is queried at a bounded rate however often it is
scraped). Labels carry consumer names and dead-letter reason codes only: no tenant, session or
content (law 7).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from services.platform.settings import Settings

log = logging.getLogger(__name__)

_SQL = {
    "sealed": "SELECT coalesce(sum(size), 0) FROM ledger_trees",
    "checkpoint_age": "SELECT coalesce(max(extract(epoch FROM now() - coalesce(checkpoint_at, "
                      "updated_at))), 0) FROM ledger_trees WHERE size > checkpoint_size",
    "worm_pending": "SELECT count(*) FROM ledger_worm_outbox",
    "missing": "SELECT coalesce(sum(missing), 0) FROM ledger_sessions",
    "audio_gaps": "SELECT coalesce(sum(json_array_length(gaps)), 0) FROM audio_recordings "
                  "WHERE gaps IS NOT NULL",
    # The reason's fixed head, before any ':' or '(' that introduces details (see reason_code).
    "dead": "SELECT consumer, left(split_part(split_part(reason, ':', 1), '(', 1), 80), count(*) "
            "FROM dead_letters GROUP BY 1, 2",
}


@dataclass
class Snapshot:
    sealed: float = 0.0
    checkpoint_age: float = 0.0
    worm_pending: float = 0.0
    missing: float = 0.0
    audio_gaps: float = 0.0
    dead: dict[tuple[str, str], float] = field(default_factory=dict)
    lag: dict[str, tuple[float, float]] = field(default_factory=dict)  # pending, unacked
    spool_bytes: float = 0.0
    spool_files: float = 0.0
    polled_at: float = 0.0
    errors: int = 0


def reason_code(head: str) -> str:
    """``invalid envelope`` → ``invalid_envelope``: a bounded label from the code's own text."""
    code = re.sub(r"[^a-z0-9]+", "_", head.lower()).strip("_")[:40].rstrip("_")
    return code or "unknown"


def spool_usage(root: Path) -> tuple[int, int]:
    """Bytes and files waiting in the recorder spools under ``root`` (one folder per tenant)."""
    total = files = 0
    with contextlib.suppress(OSError):
        for path in root.rglob("*"):
            with contextlib.suppress(OSError):
                if path.is_file():
                    total += path.stat().st_size
                    files += 1
    return total, files


class StateCollector(Collector):
    """Turns the latest :class:`Snapshot` into metric families at scrape time."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        c = CounterMetricFamily("voxledger_events_sealed", "Ledger entries sealed (all tenants)")
        c.add_metric([], s.sealed)
        yield c
        lag = GaugeMetricFamily("voxledger_consumer_lag_messages", "Messages a consumer has not "
                                "acknowledged yet (the sealer: JetStream num_pending + "
                                "num_ack_pending; a projection: ledger entries not applied)",
                                labels=["consumer"])
        for name, (pending, unacked) in sorted(s.lag.items()):
            lag.add_metric([name], pending + unacked)
        yield lag
        dead = GaugeMetricFamily("voxledger_dead_letters", "Dead letters stored, by consumer and "
                                 "reason code", labels=["consumer", "reason"])
        for (consumer, reason), n in sorted(s.dead.items()):
            dead.add_metric([consumer, reason], n)
        yield dead
        for name, doc, value in (
            ("voxledger_checkpoint_age_seconds", "Age of the oldest sealed-but-uncheckpointed "
             "tree's last checkpoint (0 when every tree is checkpointed)", s.checkpoint_age),
            ("voxledger_worm_outbox_pending", "Checkpoints whose WORM copy is not written yet",
             s.worm_pending),
            ("voxledger_recorder_spool_bytes", "Bytes in the local recorder spools", s.spool_bytes),
            ("voxledger_recorder_spool_files", "Files in the local recorder spools", s.spool_files),
            ("voxledger_metrics_poll_timestamp_seconds", "When the values were last read",
             s.polled_at),
            ("voxledger_metrics_poll_errors", "Polls that failed since start", float(s.errors)),
        ):
            g = GaugeMetricFamily(name, doc)
            g.add_metric([], value)
            yield g
        gaps = GaugeMetricFamily("voxledger_recorder_gaps", "Gaps recorded: events missing from "
                                 "sessions' seq ranges, and audio track gaps", labels=["kind"])
        gaps.add_metric(["missing_events"], s.missing)
        gaps.add_metric(["audio"], s.audio_gaps)
        yield gaps


class MetricsServer:
    """The HTTP endpoint plus the poller thread (its own event loop, NATS and DB connections)."""

    def __init__(self, settings: Settings, consumers: Iterable[str]) -> None:
        self.settings = settings
        self.consumers = list(consumers)
        self.collector = StateCollector()
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self.collector)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: Any = None

    @property
    def enabled(self) -> bool:
        return not self.settings.metrics_listen.endswith(":0")

    def start(self) -> bool:
        """Serve; False (and a warning, the pipeline runs on) if the port cannot be bound."""
        if not self.enabled:
            return False
        host, _, port = self.settings.metrics_listen.rpartition(":")
        try:
            self._server, _ = start_http_server(int(port), addr=host.strip("[]"),
                                                registry=self.registry)
        except OSError as exc:
            log.warning("metrics: cannot listen on %s (%s); running without metrics",
                        self.settings.metrics_listen, type(exc).__name__)
            return False
        self._thread = threading.Thread(target=self._run, name="metrics-poller", daemon=True)
        self._thread.start()
        log.info("metrics: serving http://%s/metrics", self.settings.metrics_listen)
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        from services.platform.db import make_async_engine
        from services.platform.nats import connect

        engine = make_async_engine(self.settings, pool_size=1)
        nc = None
        try:
            while not self._stop.is_set():
                snap = Snapshot(errors=self.collector.snapshot.errors)
                try:
                    if nc is None or nc.is_closed:
                        nc = await connect(self.settings, name="voxledger-metrics")
                    await self._poll(engine, nc, snap)
                    snap.polled_at = time.time()
                except Exception as exc:  # a server down: report it, keep the last values
                    log.warning("metrics: poll failed (%s)", type(exc).__name__)
                    snap = self.collector.snapshot
                    snap.errors += 1
                self.collector.snapshot = snap
                await asyncio.to_thread(self._stop.wait, self.settings.metrics_poll_s)
        finally:
            if nc is not None:
                with contextlib.suppress(Exception):
                    await nc.close()
            await engine.dispose()

    async def _poll(self, engine: Any, nc: Any, snap: Snapshot) -> None:
        async with engine.connect() as conn:
            for key in ("sealed", "checkpoint_age", "worm_pending", "missing", "audio_gaps"):
                setattr(snap, key, float((await conn.execute(text(_SQL[key]))).scalar_one()))
            for consumer, head, n in await conn.execute(text(_SQL["dead"])):
                # Only the pipeline's own consumers by name: ad-hoc durables (a partition
                # sealer is named after its tenant) would put tenant ids in labels.
                label = (consumer if consumer in self.consumers else "other", reason_code(head))
                snap.dead[label] = snap.dead.get(label, 0.0) + float(n)
        from services.runner.main import projection_factories
        from services.runner.progress import projection_lags

        followers = [n for n in self.consumers if n in projection_factories()]
        for lag in await projection_lags(engine, followers):
            snap.lag[lag.name] = (float(lag.pending), 0.0)  # ledger entries not yet applied
        js = nc.jetstream()
        for name in self.consumers:
            if name in followers:
                continue
            try:
                info = await js.consumer_info(self.settings.stream_name, name, timeout=5)
            except Exception:  # not created yet (the consumer has not started)
                continue
            snap.lag[name] = (float(info.num_pending or 0), float(info.num_ack_pending or 0))
        root = self.settings.recorder_spool_dir or self.settings.home / "spool"
        size, files = await asyncio.to_thread(spool_usage, root)
        snap.spool_bytes, snap.spool_files = float(size), float(files)
