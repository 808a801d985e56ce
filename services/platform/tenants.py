"""Tenants and their gateway credentials in NATS (law 10: a gateway publishes only its tenant's
subjects and reads nothing).

Each tenant ``T`` gets the NATS user ``gw-T``, allowed to publish on ``<prefix>.T.>`` and to
subscribe only to its own reply inbox ``_TINBOX.T.>`` (JetStream sends publish acks there; the
SDK sets that inbox prefix). Nothing else: no voice subject to read, no ``$JS.API`` to manage or
delete streams, no other client's ``_INBOX`` (where the pipeline's fetched frames arrive). The
pipeline's own user keeps full rights.

Passwords are never stored. A tenant's password is HMAC-SHA256 of the stack's ``tenant_secret``
(``secrets.json``, 0600) and ``T/version``, so the operator can hand it out again (``tenants add``
is idempotent; ``simulate`` and ``import`` act as the gateway) and a re-enabled tenant gets a new
one. The registry (``tenants.json``) and the server config hold only bcrypt hashes, which
nats-server checks itself. A change rewrites ``nats.conf`` (0600, atomically) and reloads the
server (SIGHUP); removed users are disconnected by the reload.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bcrypt

from services.platform.nats import NATS_MAX_PAYLOAD
from services.platform.secretfile import write_secret

TENANT_RE = re.compile(r"^[a-z0-9-]{1,63}$")  # the envelope's TenantId
INBOX_PREFIX = "_TINBOX"
BCRYPT_ROUNDS = 10  # nats-server checks it on every connect; 10 is ~50 ms on one core


class TenantError(Exception):
    """A tenant id is invalid, unknown or disabled; the message says what to do."""


@dataclass(frozen=True)
class GatewayCredential:
    tenant: str
    nats_url: str | None
    nats_user: str
    nats_password: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TenantRow:
    tenant: str
    status: str  # active | disabled
    nats_user: str
    version: int
    created_at: str
    changed_at: str


def gateway_inbox_prefix(tenant: str) -> str:
    return f"{INBOX_PREFIX}.{tenant}"


def gateway_user(tenant: str) -> str:
    return f"gw-{tenant}"


def check_tenant_id(tenant: str) -> str:
    if not TENANT_RE.fullmatch(tenant):
        raise TenantError("tenant ids are 1-63 lowercase letters, digits or '-'")
    return tenant


def _quote(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid NATS config string


class TenantRegistry:
    """``<home>/tenants.json`` and the embedded server's authorization derived from it."""

    def __init__(self, home: Path, subject_prefix: str = "voice") -> None:
        self.home = home
        self.prefix = subject_prefix
        self.path = home / "tenants.json"
        self.conf_path = home / "nats" / "nats.conf"

    # --- registry -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under an exclusive lock: two `simulate`s may add tenants at once."""
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.home / "tenants.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self._read()
            yield data
            write_secret(self.path, json.dumps(data, indent=2))
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return {"tenants": {}}

    def list(self) -> list[TenantRow]:
        rows = self._read()["tenants"]
        return [TenantRow(t, r["status"], gateway_user(t), r["version"], r["created_at"],
                          r["changed_at"]) for t, r in sorted(rows.items())]

    def get(self, tenant: str) -> TenantRow | None:
        return next((r for r in self.list() if r.tenant == tenant), None)

    def add(self, tenant: str, secret: str) -> tuple[TenantRow, bool]:
        """Create ``tenant`` (or re-enable it with a new password). True when anything changed."""
        check_tenant_id(tenant)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._locked() as data:
            row = data["tenants"].get(tenant)
            changed = row is None or row["status"] != "active"
            if row is None:
                row = {"version": 1, "created_at": now}
            elif row["status"] != "active":
                row["version"] += 1  # a disabled tenant's old password stays dead
            if changed:
                password = derive_password(secret, tenant, row["version"])
                row.update(status="active", changed_at=now, nats_hash=bcrypt.hashpw(
                    password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode())
                data["tenants"][tenant] = row
        found = self.get(tenant)
        assert found is not None
        return found, changed

    def disable(self, tenant: str) -> bool:
        check_tenant_id(tenant)
        with self._locked() as data:
            row = data["tenants"].get(tenant)
            if row is None:
                raise TenantError(f"no tenant {tenant!r}; `voxledger tenants list` shows them")
            if row["status"] == "disabled":
                return False
            row.update(status="disabled", changed_at=datetime.now(UTC).isoformat(timespec="seconds"))
            row.pop("nats_hash", None)
        return True

    def credential(self, tenant: str, secret: str, nats_url: str | None) -> GatewayCredential:
        row = self.get(tenant)
        if row is None or row.status != "active":
            raise TenantError(f"tenant {tenant!r} is not active; `voxledger tenants add {tenant}`")
        return GatewayCredential(tenant, nats_url, gateway_user(tenant),
                                 derive_password(secret, tenant, row.version))

    # --- nats-server configuration ------------------------------------------------------------

    def _pipeline_hash(self, user: str, password: str) -> str:
        """bcrypt of the pipeline's password, kept so a rewrite does not re-hash it every time."""
        with self._locked() as data:
            cached = data.get("pipeline", {})
            if cached.get("user") == user and bcrypt.checkpw(password.encode(),
                                                             cached.get("hash", "").encode()):
                return str(cached["hash"])
            digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()
            data["pipeline"] = {"user": user, "hash": digest}
            return digest

    def nats_config(self, creds: dict[str, str], port: int, store_dir: Path) -> str:
        users = [f"    {{ user: {_quote(creds['nats_user'])}, "
                 f"password: {_quote(self._pipeline_hash(creds['nats_user'], creds['nats_password']))} }}"]
        for tenant, row in sorted(self._read()["tenants"].items()):
            if row["status"] != "active":
                continue
            users.append(
                f"    {{ user: {_quote(gateway_user(tenant))}, password: {_quote(row['nats_hash'])},\n"
                f"      permissions: {{ publish: {{ allow: [{_quote(f'{self.prefix}.{tenant}.>')}] }},\n"
                f"                     subscribe: {{ allow: "
                f"[{_quote(gateway_inbox_prefix(tenant) + '.>')}] }} }} }}")
        return (f'listen: "127.0.0.1:{port}"\n'
                'server_name: "voxledger-embedded"\n'
                f"max_payload: {NATS_MAX_PAYLOAD}\n"  # the envelope limit + headers
                f"jetstream {{ store_dir: {_quote(str(store_dir))} }}\n"
                "authorization {\n  users: [\n" + "\n".join(users) + "\n  ]\n}\n")

    def write_config(self, text: str) -> bool:
        """Write ``nats.conf`` (0600) if its content changed; True when it did."""
        try:
            if self.conf_path.read_text() == text:
                return False
        except FileNotFoundError:
            pass
        write_secret(self.conf_path, text)
        return True


def derive_password(secret: str, tenant: str, version: int) -> str:
    return hmac.new(secret.encode(), f"nats-gateway/{tenant}/{version}".encode(),
                    hashlib.sha256).hexdigest()


def reload_nats(pid: int) -> None:
    """nats-server re-reads its config on SIGHUP (what ``nats-server --signal reload`` sends)."""
    os.kill(pid, signal.SIGHUP)


def wait_for(check: Any, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False
