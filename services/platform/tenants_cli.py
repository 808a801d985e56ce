"""``voxledger tenants add | list | disable``: tenants and their gateway credentials in NATS."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

tenants_app = typer.Typer(help="Tenants and their gateway credentials (publish-only, one tenant).",
                          no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@tenants_app.command("add")
def add(tenant: Annotated[str, typer.Argument(help="tenant id: 1-63 of a-z, 0-9, '-'")],
        as_json: JSON = False) -> None:
    """Create TENANT (idempotent; re-enables a disabled one with a new password) and print its
    gateway credential: publish on voice.TENANT.> only, read nothing, manage nothing."""
    import asyncio

    from services.platform.gateway import add_tenant, bcrypt_hash, embedded_nats
    from services.platform.settings import load_settings
    from services.platform.tenants import TenantError

    settings = load_settings()
    try:
        cred, changed = asyncio.run(add_tenant(settings, tenant))
    except TenantError as exc:
        _fail(str(exc))
        return
    if as_json:
        print(json.dumps(cred.as_dict()))
    else:
        typer.echo(f"tenant {tenant} {'created' if changed else 'exists'}; its gateway sets:")
        typer.echo(f"VOXLEDGER_NATS_URL={cred.nats_url}\nVOXLEDGER_NATS_USER={cred.nats_user}\n"
                   f"VOXLEDGER_NATS_PASSWORD={cred.nats_password}")
    if not embedded_nats(settings):
        typer.echo(f"NATS is external: add user {cred.nats_user} with password hash "
                   f"{bcrypt_hash(settings, tenant)} and the permissions of "
                   "infra/nats/voxledger.conf to the server, then reload it", err=True)


@tenants_app.command("list")
def list_(as_json: JSON = False) -> None:
    """List tenants: status, NATS user, credential version (never a password)."""
    from rich.console import Console
    from rich.table import Table

    from services.platform.gateway import list_tenants
    from services.platform.settings import load_settings

    rows = list_tenants(load_settings())
    if as_json:
        print(json.dumps({"tenants": [asdict(r) for r in rows]}))
        return
    table = Table("tenant", "status", "nats user", "version", "created", "changed")
    for r in rows:
        table.add_row(r.tenant, r.status, r.nats_user, str(r.version), r.created_at, r.changed_at)
    Console().print(table)


@tenants_app.command("disable")
def disable(tenant: Annotated[str, typer.Argument(help="tenant id")], as_json: JSON = False) -> None:
    """Revoke TENANT's gateway credential: NATS drops its user and disconnects its gateways.
    What it already recorded stays in the ledger."""
    from services.platform.gateway import disable_tenant
    from services.platform.settings import load_settings
    from services.platform.tenants import TenantError

    try:
        changed = disable_tenant(load_settings(), tenant)
    except TenantError as exc:
        _fail(str(exc))
        return
    if as_json:
        print(json.dumps({"tenant": tenant, "status": "disabled", "changed": changed}))
    else:
        typer.echo(f"tenant {tenant} " + ("disabled" if changed else "was already disabled"))


def register(app: typer.Typer) -> None:
    app.add_typer(tenants_app, name="tenants")
