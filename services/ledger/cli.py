"""``voxledger verify``: check the whole ledger (or one tenant/session) from rows and objects.

Exit 0 when everything holds, 1 on any mismatch (the first line names the first bad position or
object), 2 on bad usage. ``--json`` prints ``{"ok", "tenants", "entries", "sessions",
"checkpoints", "errors": [...], ...}``. Progress goes to stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
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
    trusted_key: Annotated[Path | None, typer.Option(
        "--trusted-key", help="file of pinned vkeys (log key from `voxledger keys public`, "
        "witness keys): trust these instead of the local public-key file")] = None,
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="C2SP tlog-policy file: trusted log and witness keys and the quorum of "
        "witness cosignatures the newest checkpoint must meet")] = None,
    since: Annotated[Path | None, typer.Option(
        "--since", help="a signed checkpoint you kept: check only what was appended after it "
        "(needs --tenant)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Recompute every leaf, rebuild the trees, list the WORM bucket and check every checkpoint
    (all versions) against trusted keys, audio and gaplessness."""
    from services.ledger.trust import TrustError

    if since is not None and tenant is None:
        _usage("--since needs --tenant (a checkpoint belongs to one tenant's log)")
    if trusted_key is not None and policy is not None:
        _usage("give --trusted-key or --policy, not both")
    try:
        since_note = since.read_text() if since is not None else None
    except (OSError, UnicodeDecodeError) as exc:
        _usage(f"--since: cannot read {since}: {exc}")
    try:
        report = asyncio.run(_run(tenant, session, trusted_key, policy, since_note))
    except TrustError as exc:
        _usage(str(exc))
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for issue in report.errors:
            print(f"FAIL {issue}")
        for issue in report.warnings:
            err.print(f"[yellow]note[/yellow] {issue}", highlight=False)
        verdict = "OK" if report.ok else f"FAILED ({len(report.errors)} problem(s))"
        print(f"{verdict}: {report.tenants} tenant(s), {report.entries} entries "
              f"({report.entries_per_s}/s), {report.sessions} session(s), "
              f"{report.checkpoints} checkpoint(s), {report.worm_objects} WORM object(s), "
              f"{report.audio_objects} audio object(s); keys: {report.trust}")
    sys.exit(0 if report.ok else 1)


def _usage(message: str) -> Any:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


async def _run(tenant: str | None, session: str | None, trusted_key: Path | None,
               policy: Path | None, since: str | None) -> Report:
    from services.ledger.storage import LedgerStorage
    from services.ledger.trust import Trust
    from services.ledger.verify import verify_ledger
    from services.platform.db import make_async_engine
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings
    from services.platform.signing import PublicKeys

    settings = load_settings()
    if trusted_key is not None:
        trust = Trust.from_file(trusted_key)
    elif policy is not None:
        trust = Trust.from_policy(policy)
    else:
        trust = Trust.local(PublicKeys.load(settings.signing_keys_dir))
    keys = key_provider(settings)
    storage = LedgerStorage(settings, make_s3_client(settings))
    engine = make_async_engine(settings)
    try:
        return await verify_ledger(engine, keys, storage, trust=trust, tenant=tenant,
                                   session=session, since=since,
                                   progress=lambda m: err.print(f"[dim]•[/dim] {m}"))
    finally:
        await engine.dispose()
