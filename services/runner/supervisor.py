"""``voxledger run --processes N``: consumer groups in child processes under one supervisor.

All consumers in one process share one core (the GIL), so on a multi-core machine ``run`` splits
them into groups, each a child ``voxledger run --processes 1 --only A --only B``. The supervisor
forwards SIGINT/SIGTERM to the children (each finishes its in-flight batch: commit, then ack),
restarts a child that dies unexpectedly with an exponential backoff, and exits 0 after a clean
stop. A child gets SIGKILL if the supervisor itself is killed (Linux ``PR_SET_PDEATHSIG``), so a
``kill -9`` of ``run`` still stops every consumer, as it does with one process.

Correctness never depends on the grouping: every consumer commits before it acks and is
idempotent; ordered consumers (the sealer) hold an advisory lock, so two copies cannot interleave.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

# The sealer (Merkle, encryption, raw audio segments) and the audio recorder (decoding, mixing,
# encryption) each get a process of their own: their lag is what the evidence waits on. The
# derived projections (catalog, transcripts, redaction) share the third.
DEFAULT_GROUPS: list[list[str]] = [["sealer"], ["catalog", "transcripts", "redaction", "erasure",
                                                "retention"], ["audio"]]

# Derived projections that may trail the ledger under a burst: their group runs at a lower CPU
# priority, so when the machine is saturated the sealer and the audio recorder (whose lag is the
# evidence's) get the cores first and the transcripts catch up after the burst. Nothing is lost
# either way: what a projection has not applied waits in the ledger.
DEFERRABLE = frozenset({"catalog", "transcripts", "redaction", "retention"})
DEFERRABLE_NICE = 5

RESTART_BACKOFF_MAX = 30.0
STABLE_AFTER_S = 60.0  # a child that ran this long restarts with the backoff reset
STOP_TIMEOUT_S = 30.0


def parse_processes(value: str) -> int | None:
    """``auto`` → None (decided by :func:`plan_groups`), else a positive integer."""
    if value.strip().lower() == "auto":
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"--processes must be 'auto' or a positive integer, not {value!r}")
    return n


def plan_groups(names: list[str], processes: int | None, cpus: int | None = None
                ) -> list[list[str]]:
    """Split ``names`` into at most ``processes`` groups (auto: the default groups when there is
    more than one CPU, else one). Consumers outside DEFAULT_GROUPS get a group of their own."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    groups = [[n for n in g if n in names] for g in DEFAULT_GROUPS]
    known = {n for g in DEFAULT_GROUPS for n in g}
    groups += [[n] for n in names if n not in known]
    groups = [g for g in groups if g]
    target = (len(groups) if cpus > 1 else 1) if processes is None else processes
    target = max(1, min(target, len(names)))
    while len(groups) > target:  # merge the last group into the smallest of the others
        last = groups.pop()
        min(groups, key=len).extend(last)
    while len(groups) < target:  # split the largest group
        big = max(groups, key=len)
        groups.remove(big)
        groups += [big[: len(big) // 2], big[len(big) // 2:]]
    return groups


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. PR_SET_PDEATHSIG = 1.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def _deferred_child() -> None:
    _die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(DEFERRABLE_NICE)


@dataclass
class Child:
    names: list[str]
    args: list[str] | None = None  # a voxledger command other than `run --only …` (the API)
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = 1.0
    restart_at: float = 0.0
    restarts: int = 0
    label: str = field(init=False)

    def __post_init__(self) -> None:
        self.label = "+".join(self.names)

    def command(self) -> list[str]:
        if self.args is not None:
            return [sys.executable, "-m", "services.cli", *self.args]
        args = [sys.executable, "-m", "services.cli", "run", "--processes", "1"]
        for name in self.names:
            args += ["--only", name]
        return args

    @property
    def deferrable(self) -> bool:
        return set(self.names) <= DEFERRABLE

    def start(self) -> None:
        setup = _deferred_child if self.deferrable else _die_with_parent
        # The supervisor serves the metrics; a child binding the same port would fail.
        env = dict(os.environ, VOXLEDGER_METRICS_LISTEN="127.0.0.1:0")
        self.proc = subprocess.Popen(
            self.command(), env=env, preexec_fn=setup if sys.platform == "linux" else None)
        self.started = time.monotonic()
        log.info("started [%s] as pid %d", self.label, self.proc.pid)


class Supervisor:
    def __init__(self, groups: list[list[str]], api: bool = False) -> None:
        self.children = [Child(g) for g in groups]
        if api:  # the HTTP API as one more supervised child (`voxledger serve`)
            self.children.append(Child(["api"], ["serve"]))
        self._stopping = False

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self._stopping:
            log.info("%s: stopping %d consumer processes", signal.Signals(signum).name,
                     len(self.children))
        self._stopping = True

    def run(self, poll_s: float = 0.2) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            for child in self.children:
                child.start()
            while not self._stopping:
                self._check(time.monotonic())
                time.sleep(poll_s)
        finally:
            self._stop_all()
        return 0

    def _check(self, now: float) -> None:
        for child in self.children:
            if child.proc is None:
                if now >= child.restart_at and not self._stopping:
                    child.restarts += 1
                    log.warning("restarting [%s] (restart %d)", child.label, child.restarts)
                    child.start()
                continue
            code = child.proc.poll()
            if code is None:
                continue
            if now - child.started >= STABLE_AFTER_S:
                child.backoff = 1.0
            log.warning("[%s] (pid %d) exited unexpectedly with code %s; restarting in %.0fs",
                        child.label, child.proc.pid, code, child.backoff)
            child.proc = None
            child.restart_at = now + child.backoff
            child.backoff = min(child.backoff * 2, RESTART_BACKOFF_MAX)

    def _stop_all(self) -> None:
        live = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        for proc in live:
            # SIGTERM: the child finishes its in-flight batch (commit, then ack) and exits.
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in live:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %d did not stop in %.0fs; killing it", proc.pid, STOP_TIMEOUT_S)
                proc.kill()
                proc.wait(10)
        log.info("stopped")
