"""``voxledger evidence export | verify`` and the ``witness`` commands.

``export`` writes a session's bundle (see bundle.py) atomically: a temporary file next to the
output, moved into place when complete. ``verify`` runs the bundle's own checks (the same code
as the ``verify_bundle.py`` inside it). Exit codes: 0 ok, 1 a check failed (the bad files are
named), 2 usage or not found.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

evidence_app = typer.Typer(no_args_is_help=True, help=(
    "Session evidence bundles a court can check offline with Python + cryptography."))


def _fail(message: str, code: int = 2) -> Any:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@evidence_app.command("export")
def export(
    session: Annotated[str, typer.Argument(help="session id")],
    tenant: Annotated[str, typer.Option("--tenant", help="tenant id")],
    output: Annotated[Path, typer.Option("-o", "--output", help="bundle .zip to write")],
    reason: Annotated[str, typer.Option("--reason", help="why (sealed in the custody record)")],
    actor: Annotated[str | None, typer.Option("--actor", help="who (default: $USER)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable summary")] = False,
) -> None:
    """Export one session's evidence bundle (events, audio, transcript, proofs, keys, custody,
    verifier, draft certification); the export itself is recorded in the ledger."""
    from services.evidence.collect import BundleError
    from services.evidence.export import export_session
    from services.platform.settings import SettingsError, load_settings

    if len(reason) > 1000:
        _fail("--reason is limited to 1000 characters")
    try:
        data, summary = asyncio.run(export_session(load_settings(), tenant, session, reason,
                                                   actor))
    except (BundleError, SettingsError) as exc:
        _fail(str(exc))
    tmp = output.with_name(f".{output.name}.partial")
    tmp.write_bytes(data)
    os.replace(tmp, output)
    summary["output"] = str(output)
    if as_json:
        print(json.dumps(summary))
    else:
        state = "verified" if summary["verified"] else "DID NOT VERIFY"
        print(f"wrote {output}: {summary['entries']} entries, checkpoint "
              f"{summary['checkpoint_size']}, {summary['bytes']} bytes; {state}"
              + ("; session erased (no plaintext)" if summary["erased"] else ""))
    if not summary["verified"]:
        raise typer.Exit(1)


@evidence_app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(help="bundle .zip")],
    trusted_key: Annotated[Path | None, typer.Option(
        "--trusted-key", help="pinned log vkeys instead of the bundle's keys/")] = None,
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="pinned C2SP tlog-policy instead of the bundle's")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Run the bundle's checks (the same as its verify_bundle.py) and name any bad file."""
    from services.evidence.verify_bundle import main

    args = [str(bundle)] + (["--trusted-key", str(trusted_key)] if trusted_key else []) \
        + (["--policy", str(policy)] if policy else []) + (["--json"] if as_json else [])
    raise typer.Exit(main(args))


def register(app: typer.Typer) -> None:
    from services.evidence.witness_cli import register as witness

    app.add_typer(evidence_app, name="evidence")
    witness(app)
