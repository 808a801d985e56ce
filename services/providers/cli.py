"""``voxledger import``: a recorded log of raw provider frames → the ledger (recorder SDK)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from schemas.envelope import Provider


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        file: Annotated[str, typer.Argument(help="JSONL file of frames; '-' reads stdin")],
        provider: Annotated[Provider, typer.Option("--provider", help="the session's provider")],
        tenant: Annotated[str, typer.Option("--tenant", help="tenant slug [a-z0-9-]")],
        session: Annotated[str, typer.Option("--session", help="session id (never PII)")],
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable summary")] = False,
    ) -> None:
        """Import a gateway log: each line a bare frame (server) or
        {"direction", "recorded_at", "frame"}. Bad lines are reported by number, not content."""
        import asyncio
        import re

        from rich.console import Console

        from services.platform.settings import load_settings
        from services.providers.importer import import_frames

        err = Console(stderr=True)
        if not re.fullmatch(r"[a-z0-9-]{1,63}", tenant):
            err.print("[red]error:[/red] --tenant must match [a-z0-9-]{1,63}")
            raise typer.Exit(2)
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", session):
            err.print("[red]error:[/red] --session must match [A-Za-z0-9_-]{1,128}")
            raise typer.Exit(2)
        try:
            # closed by the ``with`` below; opened first so a bad path is one clear line
            handle = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
        except OSError as exc:
            err.print(f"[red]error:[/red] cannot read {file}: {exc.strerror}", highlight=False)
            raise typer.Exit(1) from None
        with handle:
            result = asyncio.run(import_frames(
                load_settings(), tenant, session, provider, handle,
                progress=lambda n: err.print(f"[dim]•[/dim] {n} frames recorded")))
        if as_json:
            print(json.dumps(result.as_json()))
            return
        for e in result.errors:
            err.print(f"line {e.line}: {e.reason}", highlight=False)
        err.print(f"imported {result.events} events into {tenant}/{session}; "
                  f"{len(result.errors)} lines with errors", highlight=False)
