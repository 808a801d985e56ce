"""``voxledger replay``: rebuild projections from the ledger and compare them with the live ones."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    @app.command("replay")
    def replay_cmd(
        tenant: Annotated[str | None, typer.Option(help="one tenant (default: every tenant)")] = None,
        projection: Annotated[str, typer.Option(
            help="catalog, transcripts, audio, redaction or all")] = "all",
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
    ) -> None:
        """Rebuild projections from the sealed ledger and compare them, row by row, with the live
        ones. Exit 0 when identical; 1 naming the first projection, table and session that
        differ. Run it when the pipeline has caught up (`voxledger wait`)."""
        from services.cli import _progress
        from services.evidence.replay import PROJECTIONS, ReplayError, replay
        from services.platform.db import make_async_engine
        from services.platform.keys import key_provider
        from services.platform.s3 import make_s3_client
        from services.platform.settings import load_settings

        wanted = PROJECTIONS if projection == "all" else (projection,)
        settings = load_settings()

        async def run() -> dict[str, Any]:
            redactor = None
            if "redaction" in wanted:
                from services.redaction.engine import shared_engine

                _progress(f"loading the redaction model {settings.spacy_model}")
                redactor = shared_engine(settings.spacy_model, settings.redaction_batch_size)
                await asyncio.to_thread(redactor.warm_up)
            engine = make_async_engine(settings)
            try:
                report = await replay(
                    engine, key_provider(settings),
                    make_s3_client(settings), settings.bucket_ledger, settings.bucket_audio,
                    tenant=tenant, projections=wanted, progress=_progress, redactor=redactor)
            finally:
                await engine.dispose()
            out = report.as_json()
            out["first_difference"] = str(report.differences[0]) if report.differences else None
            return out

        try:
            out = asyncio.run(run())
        except ReplayError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if as_json:
            typer.echo(json.dumps(out))
        else:
            for name, p in out["projections"].items():
                mark = "identical" if p["identical"] else "DIFFERENT"
                typer.echo(f"{name:<12} {p['rows']:>7} rows  {mark}  live {p['digest_live'][:16]}"
                           f"  replayed {p['digest_replayed'][:16]}")
                for why, n in p["skipped"].items():
                    typer.echo(f"{'':<12} {n:>7} session(s) not compared: {why}")
            typer.echo(f"{out['sessions']} session(s) in {len(out['tenants'])} tenant(s)"
                       f", {out['erased_sessions']} erased (skipped)")
        if not out["ok"]:
            typer.echo(f"replay differs: {out['first_difference']}", err=True)
            raise typer.Exit(1)
