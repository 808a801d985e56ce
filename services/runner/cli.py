"""``voxledger run`` (every consumer in one process) and ``voxledger wait`` (until caught up)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        only: Annotated[list[str] | None, typer.Option(
            "--only", help="run just this consumer (repeatable), for scale-out")] = None,
    ) -> None:
        """Run every consumer (and later the API) in one process until SIGINT/SIGTERM."""
        import asyncio
        import logging

        from services.platform.settings import load_settings
        from services.runner.main import run_all

        settings = load_settings()
        logging.basicConfig(level=settings.log_level,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            asyncio.run(run_all(settings, only))
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

        from services.platform.settings import load_settings
        from services.runner.main import consumer_factories
        from services.runner.progress import ConsumerLag, wait_caught_up

        expect = consumer or list(consumer_factories())
        last = [""]

        def show(lags: list[ConsumerLag]) -> None:
            line = "  ".join(f"{lag.name}: {lag.pending + lag.unacked} behind" for lag in lags)
            if line != last[0]:
                typer.echo(f"waiting… {line or 'no consumers yet'}", err=True)
                last[0] = line

        ok = asyncio.run(wait_caught_up(load_settings(), expect, timeout, show))
        if not ok:
            typer.echo(f"error: consumers not caught up after {timeout:.0f}s "
                       "(is `voxledger run` running?)", err=True)
            raise typer.Exit(1)
        typer.echo("all consumers caught up", err=True)
