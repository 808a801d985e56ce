"""``voxledger run``: every consumer in one process."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def run() -> None:
        """Run every consumer (and later the API) in one process until SIGINT/SIGTERM."""
        import asyncio

        from services.platform.settings import load_settings
        from services.runner.main import run_all

        asyncio.run(run_all(load_settings()))
