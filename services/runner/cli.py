"""``voxledger run`` (every consumer, in one process or a few) and ``voxledger wait``."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        only: Annotated[list[str] | None, typer.Option(
            "--only", help="run just this consumer (repeatable), for scale-out")] = None,
        processes: Annotated[str, typer.Option(
            "--processes", help="'auto' (one process per consumer group when there is more "
            "than one CPU) or N; 1 runs everything in this process")] = "auto",
    ) -> None:
        """Run every consumer and the HTTP API (VOXLEDGER_API_HOST/PORT; off with
        VOXLEDGER_API_ENABLED=false or --only) until SIGINT/SIGTERM: in one process, or in a
        few supervised child processes (one per consumer group, one for the API)."""
        import asyncio

        from services.platform.settings import load_settings
        from services.runner.logs import configure_logging
        from services.runner.main import consumer_factories, job_factories, run_all
        from services.runner.metrics import MetricsServer
        from services.runner.supervisor import Supervisor, parse_processes, plan_groups

        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        try:
            wanted = parse_processes(processes)
            known = [*consumer_factories(), *job_factories()]
            unknown = set(only or []) - set(known)
            if unknown:
                raise ValueError(f"unknown consumer(s) {sorted(unknown)}; known: {sorted(known)}")
            groups = plan_groups(only or known, wanted)
            # The top process serves the metrics (children are told not to: port 0).
            metrics = MetricsServer(settings, only or known)
            metrics.start()
            api = settings.api_enabled and not only
            try:
                if len(groups) > 1:
                    raise typer.Exit(Supervisor(groups, api=api).run())
                asyncio.run(run_all(settings, only, api=api))
            finally:
                metrics.stop()
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    @app.command()
    def wait(
        timeout: Annotated[float, typer.Option(help="seconds to wait before giving up")] = 120.0,
        consumer: Annotated[list[str] | None, typer.Option(
            help="consumer to wait for (repeatable); default: all that `run` starts")] = None,
    ) -> None:
        """Wait until every consumer has processed everything published so far (exit 1 on timeout)."""
        import asyncio
        import time

        from services.platform.settings import load_settings
        from services.runner.main import consumer_factories
        from services.runner.progress import ConsumerLag, wait_caught_up

        expect = consumer or list(consumer_factories())
        last = [""]

        shown = [0.0]

        def show(lags: list[ConsumerLag]) -> None:
            # Progress every few seconds, for the consumers waited for only (not test durables).
            line = "  ".join(f"{lag.name}: {lag.pending + lag.unacked} behind" for lag in lags
                             if lag.name in expect)
            now = time.monotonic()
            if line != last[0] and now - shown[0] >= 5:
                typer.echo(f"waiting… {line or 'no consumers yet'}", err=True)
                last[0], shown[0] = line, now

        ok = asyncio.run(wait_caught_up(load_settings(), expect, timeout, show))
        if not ok:
            typer.echo(f"error: consumers not caught up after {timeout:.0f}s "
                       "(is `voxledger run` running?)", err=True)
            raise typer.Exit(1)
        typer.echo("all consumers caught up", err=True)
