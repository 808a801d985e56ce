"""`voxledger run --processes`: grouping, and the supervisor's restart and clean stop."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from services.runner import supervisor as sup

ALL = ["catalog", "sealer", "audio", "transcripts", "redaction"]


@pytest.mark.parametrize(("names", "processes", "cpus", "expected"), [
    (ALL, None, 2, [["sealer"], ["catalog", "transcripts", "redaction"], ["audio"]]),
    (ALL, None, 1, [["sealer", "catalog", "audio", "transcripts", "redaction"]]),
    (ALL, 1, 8, [["sealer", "catalog", "audio", "transcripts", "redaction"]]),
    (ALL, 2, 8, [["sealer", "audio"], ["catalog", "transcripts", "redaction"]]),
    (["sealer"], None, 8, [["sealer"]]),
    (["sealer", "audio"], None, 8, [["sealer"], ["audio"]]),
    (["sealer", "catalog"], 2, 8, [["sealer"], ["catalog"]]),
    (ALL, 99, 8, [["audio"], ["sealer"], ["catalog"], ["transcripts"], ["redaction"]]),
])
def test_plan_groups(names: list[str], processes: int | None, cpus: int,
                     expected: list[list[str]]) -> None:
    groups = sup.plan_groups(names, processes, cpus)
    assert sorted(map(sorted, groups)) == sorted(map(sorted, expected))
    assert sorted(n for g in groups for n in g) == sorted(names)


def test_parse_processes() -> None:
    assert sup.parse_processes("auto") is None
    assert sup.parse_processes("3") == 3
    for bad in ("0", "-1", "many"):
        with pytest.raises(ValueError, match="--processes"):
            sup.parse_processes(bad)


class _Sleeper(sup.Child):
    def command(self) -> list[str]:
        return [sys.executable, "-c", "import time; time.sleep(600)"]


def test_restarts_a_dead_child_and_stops_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    supervisor = sup.Supervisor([["a"], ["b"]])
    supervisor.children = [_Sleeper(["a"]), _Sleeper(["b"])]
    monkeypatch.setattr(sup.signal, "signal", lambda *_: None)  # not on the main thread
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run(poll_s=0.05)))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while any(c.proc is None for c in supervisor.children) and time.monotonic() < deadline:
            time.sleep(0.05)
        first = supervisor.children[0].proc
        assert first is not None
        os.kill(first.pid, signal.SIGKILL)
        while supervisor.children[0].restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert supervisor.children[0].restarts == 1
        assert supervisor.children[1].restarts == 0
    finally:
        supervisor._on_signal(signal.SIGTERM, None)
        thread.join(60)
    assert result == [0]
    assert all(c.proc is None or c.proc.poll() is not None for c in supervisor.children)


def test_derived_projections_run_at_a_lower_priority() -> None:
    """Under saturation the ledger's and the recordings' consumers get the CPU first."""
    deferred = _Sleeper(["catalog", "transcripts", "redaction"])
    ledger = _Sleeper(["sealer"])
    assert deferred.deferrable and not ledger.deferrable
    assert not _Sleeper(["transcripts", "audio"]).deferrable
    try:
        deferred.start()
        ledger.start()
        assert deferred.proc is not None and ledger.proc is not None
        base = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, deferred.proc.pid) == base + sup.DEFERRABLE_NICE
        assert os.getpriority(os.PRIO_PROCESS, ledger.proc.pid) == base
    finally:
        for child in (deferred, ledger):
            if child.proc is not None:
                child.proc.kill()
                child.proc.wait()


def test_the_api_is_one_more_supervised_child() -> None:
    with_api = sup.Supervisor([["sealer"], ["audio"]], api=True)
    assert [c.label for c in with_api.children] == ["sealer", "audio", "api"]
    assert with_api.children[-1].command()[-1] == "serve"
    assert not with_api.children[-1].deferrable
    assert [c.label for c in sup.Supervisor([["sealer"]]).children] == ["sealer"]
