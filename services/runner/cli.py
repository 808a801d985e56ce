"""``voxledger run``: every consumer in one process."""

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
