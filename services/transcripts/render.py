"""Human output of a transcript and of search hits (pure: rows in, rich markup lines out).

Text is escaped for rich markup: a caller saying "[bold]" must print as said.
"""

from __future__ import annotations

import re
from typing import Any

from rich.markup import escape


def clock(ms: int | float | None) -> str:
    if ms is None:
        return "--:--.-"
    total = max(0.0, float(ms)) / 1000
    return f"{int(total // 60):02d}:{total % 60:04.1f}"


def _seconds(ms: int | float | None) -> str:
    return "?" if ms is None else f"{float(ms) / 1000:.2f} s"


def _turn_lines(t: dict[str, Any]) -> list[str]:
    who = "caller" if t["speaker"] == "caller" else "agent "
    head = f"[dim]{clock(t['start_ms'])}[/dim] [bold]{who}[/bold]"
    if t["withheld"]:
        return [f"{head} [yellow]⏸ text withheld ({escape(t['withheld'])})[/yellow]"]
    status = t["status"]
    text = escape(t["text"] or "")
    if t.get("modality") == "text":
        head += " [blue]⌨ typed[/blue]"  # entered as text by the app: nobody said it
    if t["speaker"] == "caller" or status == "completed":
        mark = " [red]✗ transcription failed[/red]" if status == "failed" else ""
        return [f"{head} {text}{mark}"]
    heard = t["heard_text"]
    approx = "≈" if t["approximate"] else ""
    of = f" of {_seconds(t['generated_ms'])}" if t["generated_ms"] is not None else ""
    tag = "✂ truncated" if status == "truncated" else "✗ interrupted"
    lines = [f"{head} [magenta]{tag}[/magenta] [dim](heard {approx}{_seconds(t['heard_ms'])}"
             f"{of})[/dim]"]
    if heard is None:
        lines.append(f"           heard: [dim]unknown[/dim]   generated: {text}")
    else:
        lines.append(f"           heard{approx}: {escape(heard) or '[dim](nothing)[/dim]'}")
        if heard != (t["text"] or ""):
            lines.append(f"           [dim]generated: {text}[/dim]")
    return lines


def _tool_line(c: dict[str, Any]) -> str:
    head = f"[dim]{clock(c['started_ms'])}[/dim] [cyan]⚙ tool[/cyan] {escape(c['name'])}"
    if c["withheld"]:
        return f"{head} [yellow]⏸ withheld ({escape(c['withheld'])})[/yellow]"
    args = escape(c["arguments"] or "")
    if c["cancelled"]:
        return f"{head}({args}) [magenta]✗ cancelled[/magenta]"
    if c["result"] is None:
        return f"{head}({args}) [dim]… no result recorded[/dim]"
    took = ""
    if c["ended_ms"] is not None:
        took = f" [dim]after {_seconds(c['ended_ms'] - c['started_ms'])}[/dim]"
    err = " [red](error)[/red]" if c["is_error"] else ""
    return f"{head}({args}) → {escape(c['result'])}{err}{took}"


def transcript_lines(turns: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[str]:
    """Turns and tool calls interleaved on the session timeline."""
    items: list[tuple[float, int, list[str]]] = []
    for t in turns:
        items.append((float(t["start_ms"]), 0, _turn_lines(t)))
    for c in tools:
        items.append((float(c["started_ms"]), 1, [_tool_line(c)]))
    items.sort(key=lambda x: (x[0], x[1]))
    return [line for _, _, lines in items for line in lines]


def hit_line(h: dict[str, Any]) -> str:
    # ts_headline marks matches with [[ ]] (reads.HEADLINE); escape the text between marks.
    parts = re.split(r"\[\[|\]\]", h["snippet"] or "")
    snippet = "".join(f"[bold yellow]{escape(p)}[/]" if i % 2 else escape(p)
                      for i, p in enumerate(parts))
    return (f"[dim]{escape(h['tenant_id'])}[/dim] [bold]{escape(h['session_id'])}[/bold] "
            f"{clock(h['start_ms'])} {h['speaker']}: {snippet}")
