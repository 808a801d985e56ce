"""``voxledger verify``: check the whole ledger (or one tenant/session) from rows and objects.

Exit 0 when everything holds, 1 on any mismatch (the first line names the first bad position or
object), 2 on bad usage. ``--json`` prints ``{"ok", "tenants", "entries", "sessions",
"checkpoints", "errors": [...], ...}``. Progress goes to stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from services.ledger.verify_report import Report

err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    from services.ledger.sessions_cli import SECTIONS

    SECTIONS["ledger"] = ledger_section
    app.command("verify")(verify)


def ledger_section(_conn: object, tenant: str, session: str) -> dict[str, Any]:
    """The ``ledger`` section of ``sessions show``: entries, positions, gaps, duplicates, ended."""
    from services.ledger.summary import ledger_summary
    from services.platform.db import make_async_engine
    from services.platform.settings import load_settings

    async def read() -> dict[str, Any]:
        engine = make_async_engine(load_settings(), pool_size=1)
        try:
            async with engine.connect() as conn:
                return await ledger_summary(conn, tenant, session)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def verify(
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant")] = None,
    session: Annotated[str | None, typer.Option(
        "--session", help="audio and completeness checks for this session only")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Recompute every leaf, rebuild the trees, check checkpoints, audio and gaplessness."""
    report = asyncio.run(_run(tenant, session))
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for issue in report.errors:
            print(f"FAIL {issue}")
        for issue in report.warnings:
            err.print(f"[yellow]note[/yellow] {issue}", highlight=False)
        verdict = "OK" if report.ok else f"FAILED ({len(report.errors)} problem(s))"
        print(f"{verdict}: {report.tenants} tenant(s), {report.entries} entries, "
              f"{report.sessions} session(s), {report.checkpoints} checkpoint(s), "
              f"{report.audio_objects} audio object(s)")
    sys.exit(0 if report.ok else 1)


async def _run(tenant: str | None, session: str | None) -> Report:
    from services.ledger.storage import LedgerStorage
    from services.ledger.verify import verify_ledger
    from services.platform.db import make_async_engine
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings

    settings = load_settings()
    keys = key_provider(settings)
    storage = LedgerStorage(settings, make_s3_client(settings))
    engine = make_async_engine(settings)
    try:
        return await verify_ledger(engine, keys, storage, tenant=tenant, session=session,
                                   progress=lambda m: err.print(f"[dim]•[/dim] {m}"))
    finally:
        await engine.dispose()
