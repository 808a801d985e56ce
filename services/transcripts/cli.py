"""``voxledger search`` and the transcript part of ``voxledger sessions show``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console

out = Console()


def transcript_fields(conn: Any, tenant: str, session: str) -> dict[str, Any]:
    """``turns``, ``tool_calls`` (empty until the consumer has seen the session) and a summary."""
    from services.transcripts.reads import transcript

    found = transcript(conn, tenant, session)
    if found is None:
        return {"turns": [], "tool_calls": [], "transcript": None}
    return {"turns": found["turns"], "tool_calls": found["tool_calls"],
            "transcript": found["summary"]}


def search(
    words: Annotated[str, typer.Argument(help='words, "a quoted phrase", or, -excluded')],
    tenant: Annotated[str | None, typer.Option(help="only this tenant")] = None,
    since: Annotated[datetime | None, typer.Option(help="sessions started at or after")] = None,
    until: Annotated[datetime | None, typer.Option(help="sessions started before")] = None,
    provider: Annotated[str | None, typer.Option(help="e.g. openai-realtime, twilio-media")] = None,
    agent: Annotated[str | None, typer.Option(help="agent named in session.started")] = None,
    interrupted: Annotated[bool | None, typer.Option(
        "--interrupted/--not-interrupted", help="sessions with (without) a cut agent turn",
        show_default=False)] = None,
    tool_call: Annotated[bool | None, typer.Option(
        "--tool-call/--no-tool-call", help="sessions with (without) a tool call",
        show_default=False)] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Full-text search over what callers heard (and said), best match first, with snippets."""
    from services.ledger.sessions_cli import _engine
    from services.transcripts.reads import SearchFilters
    from services.transcripts.reads import search as run_search
    from services.transcripts.render import hit_line

    filters = SearchFilters(tenant, since, until, provider, agent, interrupted, tool_call, limit)
    with _engine().connect() as conn:
        hits = run_search(conn, words, filters)
    if as_json:
        print(json.dumps({"hits": hits}, default=str))
        return
    if not hits:
        out.print("[dim]no matches[/dim]")
        return
    for hit in hits:
        out.print(hit_line(hit), highlight=False)
    out.print(f"[dim]{len(hits)} match{'es' if len(hits) != 1 else ''}[/dim]")


def register(app: typer.Typer) -> None:
    app.command("search")(search)
