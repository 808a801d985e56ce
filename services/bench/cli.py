"""``voxledger bench [--quick]``: the benchmark on a private embedded stack (see scenarios.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def _table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from services.bench.measure import COMPONENTS

    out = Console(width=200)
    steps = Table("N", "events", "events/s", "lag p50 ms", "lag p99 ms", "audio p99 ms", "lost",
                  "dup", "gen backlog", "drain s", "record() p99/max ms", "CPU % run/load/pg/nats/s3",
                  "peak RSS MB run/pg",
                  "sustained", title="ingest: real-time OpenAI GA sessions, 20 ms frames both ways")
    for s in report["steps"]:
        cpu = "/".join(f"{s.cpu.get(k, 0):.0f}" for k in ("run", "load", "postgres", "nats", "s3"))
        rss = "/".join(f"{s.rss_mb.get(k, 0):.0f}" for k in ("run", "postgres"))
        steps.add_row(str(s.sessions), str(s.events), f"{s.events_per_s:.0f}",
                      f"{s.lag_p50_ms:.0f}", f"{s.lag_p99_ms:.0f}", f"{s.audio_lag_p99_ms:.0f}",
                      str(s.lost), str(s.duplicated), str(s.max_backlog), f"{s.drain_s:.1f}",
                      f"{s.record_p99_ms:.3f}/{s.record_max_ms:.1f}", cpu, rss,
                      "yes" if s.sustained else "no")
    out.print(steps)
    per_event = Table("N", *COMPONENTS, "total",
                      title="CPU ms per event, per component (see scenarios.py)")
    for s in report["steps"]:
        per = s.cpu_ms_per_event
        per_event.add_row(str(s.sessions), *(f"{per.get(k, 0):.3f}" for k in COMPONENTS),
                          f"{sum(per.values()):.3f}")
    out.print(per_event)
    summary = Table("metric", "value", title="summary")
    for k, v in report["summary"].items():
        if k != "cpu_ms_per_event":  # the table above
            summary.add_row(k, str(v))
    st = report["storage"]
    summary.add_row("storage: ledger audio / recordings / postgres bytes",
                    f"{st['ledger_audio_bytes']} / {st['recording_bytes']} / "
                    f"{st['postgres_bytes']}")
    out.print(summary)


def register(app: typer.Typer) -> None:
    @app.command()
    def bench(
        quick: Annotated[bool, typer.Option("--quick", help="two small steps (< 2 min)")] = False,
        home: Annotated[Path, typer.Option(
            help="state directory of the private stack (never the shared .voxledger)")
        ] = Path(".voxledger-bench"),
        keep: Annotated[bool, typer.Option("--keep", help="leave the private stack up")] = False,
        lockstep: Annotated[bool, typer.Option(
            "--lockstep", help="start each step's sessions within one second and take lags over "
            "the whole step (the earlier bench)")] = False,
    ) -> None:
        """Measure ingest (step N up), baseline, verify, storage and redaction; print a table and
        one JSON line. Numbers are reported, never asserted."""
        import asyncio

        from services.bench.run import run_bench
        from services.bench.scenarios import BenchConfig
        from services.platform.settings import default_home

        if home.resolve() == default_home():
            typer.echo("error: --home must not be the shared stack's home", err=True)
            raise typer.Exit(2)
        cfg = BenchConfig.make(home.resolve(), quick, lockstep)
        report = asyncio.run(run_bench(cfg, lambda line: typer.echo(line, err=True), keep))
        _table(report)
        print(json.dumps(report["summary"]), flush=True)
