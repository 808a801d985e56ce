"""What the benchmark measures while the load runs: CPU and peak RSS per process (psutil), the
audio recorder's progress over time, and the percentiles computed from them. Pure helpers apart
from :class:`ProcWatch`, which reads /proc through psutil."""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psutil


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def audio_lags(samples: Sequence[tuple[float, dict[str, int]]],
               entries: dict[str, list[tuple[int, float]]],
               completed: dict[str, float]) -> list[float]:
    """Seconds from each entry's ``recorded_at`` until the audio recorder had fed it.

    ``samples``: (epoch time, {session: last fed seq}) in time order; ``entries``: per session
    (seq, recorded_at epoch); ``completed``: per session the epoch its recording completed (every
    entry counts as fed then). An entry never fed is skipped (reported as incomplete elsewhere).
    """
    lags: list[float] = []
    for session, rows in entries.items():
        times = [t for t, _ in samples]
        fed = [s.get(session, -1) for _, s in samples]
        # running max: progress never goes back, a missing sample must not make it
        for i in range(1, len(fed)):
            fed[i] = max(fed[i], fed[i - 1])
        for seq, recorded in rows:
            i = bisect.bisect_left(fed, seq)
            at = times[i] if i < len(times) else None
            done = completed.get(session)
            if done is not None and (at is None or done < at):
                at = done
            if at is not None:
                lags.append(max(0.0, at - recorded))
    return lags


@dataclass
class Usage:
    cpu_s: float = 0.0
    peak_rss: int = 0


@dataclass
class ProcWatch:
    """CPU seconds and peak RSS of named process trees (a process and its children)."""

    pids: dict[str, int]
    usage: dict[str, Usage] = field(default_factory=dict)
    _start: dict[str, float] = field(default_factory=dict)
    _procs: dict[int, psutil.Process] = field(default_factory=dict)

    def _tree(self, pid: int) -> list[psutil.Process]:
        try:
            root = self._procs.setdefault(pid, psutil.Process(pid))
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _cpu(self, name: str) -> float:
        total = 0.0
        for p in self._tree(self.pids[name]):
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                continue
        return total

    def start(self) -> None:
        for name in self.pids:
            self._start[name] = self._cpu(name)
            self.usage[name] = Usage()

    def sample(self) -> None:
        for name, pid in self.pids.items():
            rss = 0
            for p in self._tree(pid):
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    continue
            u = self.usage.setdefault(name, Usage())
            u.peak_rss = max(u.peak_rss, rss)
            if name in self._start:
                u.cpu_s = max(u.cpu_s, self._cpu(name) - self._start[name])


# Components of the CPU-per-event table, in column order: the consumers (meters inside `run`),
# what else `run` spent (event loops, supervisor, metrics, API, jobs), then the servers and the
# load generator (process trees).
CONSUMER_COMPONENTS = ("sealer", "catalog", "transcripts", "audio", "redaction")
COMPONENTS = (*CONSUMER_COMPONENTS, "run other", "nats", "postgres", "s3", "load")


def consumer_cpu(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]
                 ) -> dict[str, float]:
    """CPU seconds per consumer between two sets of meter reports (pid → snapshot, see
    :mod:`services.runner.cpu`); a process that started in between counts from zero."""
    out: dict[str, float] = {}
    for pid, snap in after.items():
        start = before.get(pid, {}).get("consumers", {})
        for name, seconds in snap.get("consumers", {}).items():
            out[name] = out.get(name, 0.0) + max(0.0, float(seconds) - float(start.get(name, 0)))
    return out


def cpu_ms_per_event(usage: dict[str, Usage], consumers: dict[str, float], events: int
                     ) -> dict[str, float]:
    """Milliseconds of CPU per event for every component of :data:`COMPONENTS`: a consumer's
    meter, ``run other`` (the ``run`` tree's CPU not charged to a consumer meter shown), the
    server and load process trees."""
    n = max(1, events)
    shown = {k: consumers.get(k, 0.0) for k in CONSUMER_COMPONENTS}
    run = usage["run"].cpu_s if "run" in usage else 0.0
    out = {k: 1000 * v / n for k, v in shown.items()}
    out["run other"] = 1000 * max(0.0, run - sum(shown.values())) / n
    for k in ("nats", "postgres", "s3", "load"):
        out[k] = 1000 * (usage[k].cpu_s if k in usage else 0.0) / n
    return out
