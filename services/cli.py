"""The ``voxledger`` command. Each capability contributes its commands from its own module.

Known failures (bad configuration, a server that will not start, a missing binary) print one
clear message and exit non-zero, never a traceback.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from services.platform.keys import KeyError_
from services.platform.servers import StackError
from services.platform.settings import SettingsError, default_home

app = typer.Typer(
    name="voxledger",
    help="Tamper-evident compliance recording for realtime voice agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Wide, soft-wrapped: an error stays one line however narrow (or absent) the terminal is.
err = Console(stderr=True, soft_wrap=True)
out = Console()


def _progress(message: str) -> None:
    err.print(f"[dim]•[/dim] {message}")


@app.command()
def up() -> None:
    """Start the embedded stack (NATS, SeaweedFS S3, Postgres) under .voxledger/ and provision it."""
    from services.platform.stack import Stack

    Stack(default_home(), _progress).up()
    err.print(f"[green]stack ready[/green]; settings in {default_home() / 'env'}")


@app.command()
def down() -> None:
    """Stop the servers that `voxledger up` started (never external ones)."""
    from services.platform.stack import Stack

    stopped = Stack(default_home(), _progress).down()
    err.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Show each server: running/stopped, port, pid, data dir, log path."""
    from services.platform.stack import Stack

    rows = Stack(default_home()).status()
    canary = _object_lock_canary(rows)
    if as_json:
        print(json.dumps({"servers": [asdict(r) for r in rows],
                          "object_lock": canary.as_json() if canary else None}))
        return
    table = Table("server", "state", "port", "pid", "data dir", "log")
    colors = {"running": "green", "stopped": "red", "external": "cyan", "absent": "yellow"}
    for r in rows:
        table.add_row(r.name, f"[{colors[r.state]}]{r.state}[/]", str(r.port or r.url or "-"),
                      str(r.pid or "-"), r.data_dir or "-", r.log_path or "-")
    out.print(table)
    if any(r.state in ("stopped", "absent") for r in rows):
        err.print("run `voxledger up` to start what is not running")
    if canary is not None:
        from services.retention.canary import describe

        for line in describe(canary):
            err.print(f"[red]{line}[/red]" if line.startswith("WARNING") else line,
                      highlight=False)
        if False in (canary.legal_hold.enforced, canary.compliance.enforced):
            raise typer.Exit(3)  # a store that ignores object lock must not look healthy


def _object_lock_canary(rows: list[Any]) -> Any:
    """Retention: the object-lock canary, when S3 is up (None when it cannot run)."""
    if not any(r.name == "s3" and r.state in ("running", "external") for r in rows):
        return None
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings
    from services.retention.canary import run_canary

    try:
        settings = load_settings()
        return run_canary(settings, make_s3_client(settings))
    except SettingsError:
        return None


def _register_subcommands() -> None:
    from services import commands

    commands.register(app)


def main() -> None:
    _register_subcommands()
    try:
        app()
    except (SettingsError, StackError, KeyError_) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2 if isinstance(exc, SettingsError) else 1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
