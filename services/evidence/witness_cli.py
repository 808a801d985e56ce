"""``voxledger witness init | serve | add-checkpoint``: an independent C2SP witness and its client.

``serve`` is meant to run apart from the log (another host, another operator): it has its own key
and state and trusts only the log vkeys in ``<state>/logs.txt``. ``add-checkpoint`` submits a
tenant's signed checkpoint with a consistency proof from the witness's last cosigned size and
stores the cosignature (Postgres and WORM), as the sealer does when ``VOXLEDGER_WITNESS_URLS`` is
set. Exit codes: 0 ok, 1 the witness refused (status and reason printed), 2 usage.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

witness_app = typer.Typer(no_args_is_help=True, help=(
    "An independent witness (C2SP tlog-witness): cosigns a log's checkpoints only after checking "
    "consistency with the last one it cosigned."))
StateOpt = Annotated[Path, typer.Option("--state", help="the witness's own state directory")]


def _fail(message: str, code: int = 2) -> Any:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@witness_app.command("init")
def init(state: StateOpt, name: Annotated[str, typer.Option(
        "--name", help="witness key name, e.g. witness.example.com/w1")]) -> None:
    """Create the witness's key (0600) in --state and print its vkey (for tlog-policy files)."""
    from services.evidence.witness import WitnessSetupError, init_state
    from services.ledger.checkpoint import NoteError

    try:
        key = init_state(state, name)
    except (WitnessSetupError, NoteError) as exc:
        _fail(str(exc))
    typer.echo(key.vkey())


@witness_app.command("trust")
def trust(state: StateOpt, vkey: Annotated[str, typer.Argument(
        help="a log vkey (`voxledger keys public --tenant T`)")]) -> None:
    """Add a log's vkey to the logs this witness cosigns for."""
    from services.ledger.checkpoint import NoteError, Verifier

    try:
        Verifier.parse(vkey)
    except NoteError as exc:
        _fail(f"not a log vkey: {exc}")
    with open(state / "logs.txt", "a") as fh:
        fh.write(vkey.strip() + "\n")
    typer.echo(f"trusted {vkey.split('+', 1)[0]}")


@witness_app.command("serve")
def serve(
    state: StateOpt,
    host: Annotated[str, typer.Option("--host", help="listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="0 = any free port")] = 0,
) -> None:
    """Serve POST /add-checkpoint; prints the URL and the witness vkey, then runs until stopped."""
    from services.evidence.witness import Witness, WitnessSetupError
    from services.evidence.witness_server import make_server

    try:
        witness = Witness(state)
    except WitnessSetupError as exc:
        _fail(str(exc))
    server = make_server(witness, host, port)
    url = f"http://{host}:{server.server_address[1]}"
    print(json.dumps({"url": url, "vkey": witness.public.vkey(),
                      "logs": sorted(witness.logs)}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@witness_app.command("add-checkpoint")
def add_checkpoint(
    url: Annotated[str, typer.Option("--url", help="the witness's submission prefix")],
    tenant: Annotated[str, typer.Option("--tenant", help="whose log")],
    size: Annotated[int | None, typer.Option(
        "--size", min=1, help="checkpoint size (default: the newest)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Submit a signed checkpoint to a witness and store the cosignature it returns."""
    from services.ledger.witnessing import WitnessError

    try:
        out = asyncio.run(_submit(url, tenant, size))
    except WitnessError as exc:
        detail = exc.body.decode(errors="replace").strip()[:200]
        _fail(f"witness refused: {exc} {detail}".strip(), 1)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(out))
    else:
        sys.stdout.write("".join(f"{line}\n" for line in out["cosignatures"]))


async def _submit(url: str, tenant: str, size: int | None) -> dict[str, Any]:
    from sqlalchemy import func, select

    from services.ledger.models import LedgerCosignature
    from services.ledger.proofs import checkpoint_note
    from services.ledger.storage import LedgerStorage
    from services.ledger.witnessing import WitnessError, add_checkpoint, store
    from services.platform.db import make_async_engine
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings

    settings = load_settings()
    engine = make_async_engine(settings, pool_size=1)
    try:
        async with engine.connect() as conn:
            # The log's own note: cosignatures of other witnesses are not resubmitted.
            size, note = await checkpoint_note(conn, tenant, size, cosigned=False)
            old = int((await conn.execute(select(func.coalesce(func.max(
                LedgerCosignature.size), 0)).where(LedgerCosignature.tenant_id == tenant,
                                                   LedgerCosignature.witness_url == url,
                                                   LedgerCosignature.size <= size))
            ).scalar_one())
            try:
                cosigned = await add_checkpoint(conn, tenant, size, note, url, old, 30.0)
            except WitnessError as exc:
                body = exc.body.strip()
                if exc.status != 409 or not body.isdigit() or int(body) > size:
                    raise
                cosigned = await add_checkpoint(conn, tenant, size, note, url, int(body), 30.0)
        await store(engine, LedgerStorage(settings, make_s3_client(settings)), tenant, size,
                    note, url, cosigned)
    finally:
        await engine.dispose()
    return {"tenant": tenant, "size": size, "cosignatures": [c.line for c in cosigned],
            "witnesses": [c.witness for c in cosigned]}


def register(app: typer.Typer) -> None:
    app.add_typer(witness_app, name="witness")
