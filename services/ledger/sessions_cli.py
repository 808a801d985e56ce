"""``voxledger sessions list | show``: what was recorded (metadata; later issues add sections)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

sessions_app = typer.Typer(help="List and inspect recorded sessions.", no_args_is_help=True)
out = Console()

# Other capabilities add a section to `sessions show` here: name -> fn(conn, tenant, session).
SECTIONS: dict[str, Callable[[Any, str, str], dict[str, Any] | None]] = {}


def _engine() -> Any:
    from services.platform.db import make_engine
    from services.platform.settings import load_settings

    return make_engine(load_settings())


@sessions_app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    since: Annotated[datetime | None, typer.Option(help="active since (ISO date/time)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Recorded sessions, newest first."""
    from services.ledger.catalog_repo import list_sessions

    with _engine().connect() as conn:
        rows = list_sessions(conn, tenant, since, limit)
    if as_json:
        print(json.dumps({"sessions": rows}))
        return
    table = Table("tenant", "session", "provider", "started", "duration", "events", "ended")
    for r in rows:
        dur = f"{r['duration_ms'] / 1000:.1f}s" if r["duration_ms"] is not None else "-"
        table.add_row(r["tenant_id"], r["session_id"], r["provider"],
                      (r["started_at"] or "-")[:19], dur, str(r["events"]),
                      r["end_reason"] or "[yellow]open[/]")
    out.print(table)


@sessions_app.command("show")
def show(
    session_id: Annotated[str, typer.Argument(help="session id")],
    tenant: Annotated[str | None, typer.Option(help="tenant (needed when ids collide)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """One session: metadata, event counts, the transcript as heard (turns, tool calls) and the
    sections other capabilities provide."""
    from services.ledger.catalog_repo import event_kinds, find_session
    from services.transcripts.cli import transcript_fields

    with _engine().connect() as conn:
        found = find_session(conn, session_id, tenant)
        if not found:
            typer.echo(f"error: no session {session_id!r}" + (f" in tenant {tenant!r}" if tenant
                       else ""), err=True)
            raise typer.Exit(1)
        if len(found) > 1:
            tenants = ", ".join(r["tenant_id"] for r in found)
            typer.echo(f"error: session id exists in several tenants ({tenants}); pass --tenant",
                       err=True)
            raise typer.Exit(2)
        info = found[0]
        info["event_kinds"] = event_kinds(conn, info["tenant_id"], session_id)
        info.update(transcript_fields(conn, info["tenant_id"], session_id))
        for name, section in SECTIONS.items():
            value = section(conn, info["tenant_id"], session_id)
            if value is not None:
                info[name] = value
    if as_json:
        print(json.dumps(info, default=str))
        return
    _print_show(info)


def _print_show(info: dict[str, Any]) -> None:
    from services.transcripts.render import transcript_lines

    dur = f"{info['duration_ms'] / 1000:.1f} s" if info["duration_ms"] is not None else "open"
    out.print(f"[bold]{info['session_id']}[/bold]  tenant {info['tenant_id']} · "
              f"{info['provider']} · started {(info['started_at'] or '-')[:19]} · {dur} · "
              f"{info['events']} events · ended: {info['end_reason'] or '[yellow]open[/]'}")
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(info["event_kinds"].items()))
    out.print(f"[dim]events by kind: {kinds or '-'}[/dim]")
    turns, tools = info["turns"], info["tool_calls"]
    summary = info.get("transcript") or {}
    cut = sum(1 for t in turns if t["status"] in ("truncated", "interrupted"))
    out.print(f"[dim]transcript: {len(turns)} turns ({cut} cut), {len(tools)} tool calls"
              + (f", language {summary['language']}" if summary.get("language") else "")
              + "; ≈ marks heard text estimated from the heard duration[/dim]")
    out.print()
    if not turns and not tools:
        out.print("[dim](no transcript yet)[/dim]")
    for line in transcript_lines(turns, tools):
        out.print(line, highlight=False)
    handled = {"session_id", "tenant_id", "provider", "started_at", "ended_at", "duration_ms",
               "events", "event_kinds", "end_reason", "turns", "tool_calls", "transcript"}
    for key, value in info.items():
        if key not in handled:
            out.print(f"[bold]{key}[/bold]: {value}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(sessions_app, name="sessions")
