"""``voxledger asyncapi [--out FILE]``: the stream's AsyncAPI 3 document (docs/asyncapi.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def asyncapi(
        out: Annotated[Path | None, typer.Option(
            "--out", help="write the document here (default: standard output)")] = None,
    ) -> None:
        """Print or write the AsyncAPI 3 document of the stream's subjects and event contracts,
        generated from the code (the committed copy is docs/asyncapi.json)."""
        from services.platform.asyncapi import render

        text = render()
        if out is None:
            typer.echo(text, nl=False)
            return
        out.write_text(text)
        typer.echo(f"wrote {out}", err=True)
