"""``voxledger serve``, ``voxledger tokens create|list|revoke``, ``voxledger access-log``."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

tokens_app = typer.Typer(help="API tokens: one tenant, one role each.", no_args_is_help=True)
out = Console()


def _engine() -> Any:
    from services.platform.db import make_async_engine
    from services.platform.settings import load_settings

    return make_async_engine(load_settings(), pool_size=1)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@tokens_app.command("create")
def create(
    tenant: Annotated[str, typer.Option("--tenant", help="the tenant the token belongs to")],
    role: Annotated[str, typer.Option("--role", help="admin, reviewer, auditor, data or privacy")],
    name: Annotated[str, typer.Option("--name", help="who holds it (shown in the access log)")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Create a token. The secret is printed once and stored only as a hash: keep it."""
    from services.api import token_repo
    from services.api.tokens import TokenError, check_params, new_token

    try:
        checked = check_params(tenant, role, name)
    except TokenError as exc:
        raise _fail(str(exc)) from None
    made = new_token()

    async def run() -> None:
        engine = _engine()
        try:
            async with engine.begin() as conn:
                await token_repo.insert(conn, made.token_id, tenant, checked.value, name,
                                        made.secret_sha256)
        finally:
            await engine.dispose()

    asyncio.run(run())
    info = {"token": made.token, "token_id": made.token_id, "tenant_id": tenant,
            "role": checked.value, "name": name}
    if as_json:
        print(json.dumps(info))
        return
    out.print(f"token for [bold]{name}[/] ({checked.value} of tenant {tenant}), shown once:",
              highlight=False)
    print(made.token)


@tokens_app.command("list")
def list_(
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Tokens (never their secrets), with when they were created and revoked."""
    from services.api import token_repo

    async def run() -> list[dict[str, Any]]:
        engine = _engine()
        try:
            async with engine.connect() as conn:
                return await token_repo.list_tokens(conn, tenant)
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    if as_json:
        print(json.dumps({"tokens": rows}))
        return
    table = Table("token id", "tenant", "role", "name", "created", "revoked")
    for r in rows:
        table.add_row(r["token_id"], r["tenant_id"], r["role"], r["name"], r["created_at"][:19],
                      (r["revoked_at"] or "-")[:19])
    out.print(table)


@tokens_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="the token id (`tokens list`)")]) -> None:
    """Revoke a token: it is refused from the next request on."""
    from datetime import UTC, datetime

    from services.api import token_repo

    async def run() -> bool:
        engine = _engine()
        try:
            async with engine.begin() as conn:
                return await token_repo.revoke(conn, token_id, datetime.now(UTC))
        finally:
            await engine.dispose()

    if not asyncio.run(run()):
        raise _fail(f"no live token {token_id!r} (see `voxledger tokens list`)", 1)
    typer.echo(f"revoked {token_id}", err=True)


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default VOXLEDGER_API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(
        min=0, max=65535, help="port (default VOXLEDGER_API_PORT; 0 = a free one)")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, docs at /docs) until SIGINT/SIGTERM."""
    import logging
    import signal

    from services.api.serve import make_server
    from services.api.serve import serve as run_server
    from services.platform.settings import load_settings

    settings = load_settings()
    from services.runner.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_server(make_server(settings, host, port),
                         lambda url: logging.getLogger("services.api.serve").info(
                             "API on %s/v1 (docs %s/docs)", url, url),
                         stop)

    try:
        asyncio.run(main())
    except (OSError, SystemExit) as exc:
        raise _fail(f"the API could not start ({type(exc).__name__}: is the port in use?)",
                    1) from None


def access_log(
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000, help="events per tenant")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False,
) -> None:
    """Reads of recorded content (access.* events), decrypted from each tenant's ledger."""
    from services.ledger import reads
    from services.ledger.journal_reads import journal_entries
    from services.platform.keys import LocalKeyProvider
    from services.platform.settings import load_settings

    keys = LocalKeyProvider.from_file(load_settings().keyring_path)

    async def run() -> list[dict[str, Any]]:
        engine = _engine()
        try:
            async with engine.connect() as conn:
                found = []
                for t in await reads.tenants(conn, tenant):
                    for e in await journal_entries(conn, keys, t, prefix="access.", limit=limit):
                        found.append({"tenant_id": t, "position": e.position,
                                      "event_id": e.event_id, "type": e.type,
                                      "recorded_at": e.recorded_at.isoformat(), **e.body})
                return found
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    if as_json:
        print(json.dumps({"events": rows}))
        return
    table = Table("tenant", "pos", "at", "type", "token", "role", "sessions", "reason")
    for r in rows:
        table.add_row(r["tenant_id"], str(r["position"]), str(r.get("at", ""))[:19], r["type"],
                      str(r.get("token")), str(r.get("role")),
                      ", ".join(r.get("sessions") or []), str(r.get("reason") or "-"))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
    app.command("serve")(serve)
    app.command("access-log")(access_log)
