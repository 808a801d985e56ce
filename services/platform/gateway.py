"""The operator's side of tenant credentials: add, disable, and act as a tenant's gateway.

``simulate`` and ``import`` publish as the tenant's gateway would, with its credential (so they
prove the permissions are enough and nothing more is needed), creating the tenant on first use.
With an external NATS the registry cannot change the server: those commands keep the configured
credential, and ``tenants add`` prints the bcrypt hash the server's config needs (infra/nats/).
"""

from __future__ import annotations

import asyncio
import time

from services.platform.settings import Settings
from services.platform.tenants import GatewayCredential, TenantError, TenantRow


def _stack(settings: Settings):  # type: ignore[no-untyped-def]
    from services.platform.stack import Stack

    return Stack(settings.home)


def embedded_nats(settings: Settings) -> bool:
    stack = _stack(settings)
    return bool(not stack.external("nats") and "nats" in stack._load(stack.state_path))


def accepts(nats_url: str, user: str, password: str, timeout: float = 3.0) -> bool:
    """Whether the server takes this user and password now: one CONNECT + PING of the NATS
    protocol on a plain socket (a client library would retry and keep sockets around)."""
    import json
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(nats_url)
    try:
        with socket.create_connection((where.hostname or "127.0.0.1", where.port or 4222),
                                      timeout=timeout) as sock:
            reader = sock.makefile("rb")
            if not reader.readline().startswith(b"INFO"):
                return False
            connect = {"user": user, "pass": password, "verbose": False, "pedantic": False,
                       "protocol": 1, "name": "voxledger-credential-check"}
            sock.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\nPING\r\n")
            return reader.readline().startswith(b"PONG")  # else -ERR 'Authorization Violation'
    except OSError:
        return False


async def add_tenant(settings: Settings, tenant: str, timeout: float = 20.0
                     ) -> tuple[GatewayCredential, bool]:
    """Create (or re-enable) ``tenant``; once the embedded server accepts its credential, return
    it and whether anything changed."""
    stack = _stack(settings)
    registry = stack.tenants()
    secret = stack._secrets()["tenant_secret"]
    _row, changed = await asyncio.to_thread(registry.add, tenant, secret)
    cred = registry.credential(tenant, secret, settings.nats_url)
    if changed and await asyncio.to_thread(stack.sync_nats):
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(accepts, settings.nats_url or "", cred.nats_user,
                                          cred.nats_password):
            if time.monotonic() > deadline:
                raise TenantError(f"NATS did not accept tenant {tenant}'s new credential within "
                                  f"{timeout:.0f}s; see {stack.home / 'logs' / 'nats.log'}")
            await asyncio.sleep(0.2)
    return cred, changed


def disable_tenant(settings: Settings, tenant: str) -> bool:
    """Remove the tenant's user; the reload disconnects its gateways. True when it was active."""
    stack = _stack(settings)
    changed: bool = stack.tenants().disable(tenant)
    if changed:
        stack.sync_nats()
    return changed


def list_tenants(settings: Settings) -> list[TenantRow]:
    rows: list[TenantRow] = _stack(settings).tenants().list()
    return rows


def bcrypt_hash(settings: Settings, tenant: str) -> str | None:
    """The hash an external server's config needs for the tenant (never the password)."""
    registry = _stack(settings).tenants()
    row = registry._read()["tenants"].get(tenant) or {}
    value = row.get("nats_hash")
    return str(value) if value else None


async def as_gateway(settings: Settings, tenant: str) -> Settings:
    """``settings`` carrying ``tenant``'s gateway credential (the tenant made on first use), when
    the NATS server is ours; otherwise unchanged."""
    from pydantic import SecretStr

    if not embedded_nats(settings):
        return settings
    cred, _ = await add_tenant(settings, tenant)
    return settings.model_copy(update={"nats_user": cred.nats_user,
                                       "nats_password": SecretStr(cred.nats_password)})
