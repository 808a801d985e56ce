"""``voxledger export training``: consent-gated redacted transcripts to S3, with a manifest."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from botocore.exceptions import BotoCoreError, ClientError

from services.redaction.export import ExportFormat

export_app = typer.Typer(help="Exports of recorded data (training).", no_args_is_help=True)


def parse_since(value: str | None) -> datetime | None:
    """An ISO date or date-time; without a zone it is UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("expected an ISO date (2026-11-25) or date-time",
                                 param_hint="--since") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@export_app.command("training")
def training(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant id")],
    since: Annotated[str | None, typer.Option(
        "--since", help="only sessions started at or after this ISO date/time (UTC)")] = None,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", help="openai-chat (chat fine-tuning) or jsonl (turns with timing)")
    ] = ExportFormat.OPENAI_CHAT,
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
) -> None:
    """Write the redacted sessions whose consent covers training (now) to S3 as JSONL plus a
    manifest, and record lineage. The same parameters and sessions give the same export."""
    from services.platform.db import make_async_engine
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings
    from services.redaction.export_run import export_training

    settings = load_settings()
    start = parse_since(since)

    def progress(message: str) -> None:
        typer.echo(message, err=True)

    async def main() -> None:
        db = make_async_engine(settings, pool_size=2)
        try:
            result = await export_training(db, make_s3_client(settings), settings.bucket_exports,
                                           tenant, fmt=fmt, since=start, progress=progress)
        finally:
            await db.dispose()
        if as_json:
            typer.echo(json.dumps({**result.manifest, "bucket": result.bucket,
                                   "manifest_key": result.manifest_key,
                                   "manifest_sha256": result.manifest_sha256}, indent=2))
            return
        counts = result.manifest["counts"]
        typer.echo(f"export {result.export_id}: {counts['sessions']} sessions, "
                   f"{counts['messages']} messages, {counts['files']} file(s)\n"
                   f"manifest s3://{result.bucket}/{result.manifest_key} "
                   f"(sha256 {result.manifest_sha256})")

    try:
        asyncio.run(main())
    except (BotoCoreError, ClientError) as exc:
        # The message names the failing operation, never exported content.
        typer.echo(f"error: S3 export failed ({type(exc).__name__}); the export can be re-run "
                   "with the same parameters", err=True)
        raise typer.Exit(1) from None
