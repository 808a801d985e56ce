"""``voxledger up | down | status``: the embedded stack under ``.voxledger/``.

``up`` starts what is not already running (and not pointed elsewhere by VOXLEDGER_DATABASE_URL,
VOXLEDGER_NATS_URL or VOXLEDGER_S3_ENDPOINT), then provisions: database, migrations, JetStream
stream, buckets (object lock where WORM is needed) and development keys; it writes
``.voxledger/env`` for every other command. ``down`` stops only what ``up`` started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from services.platform.roles import APP_ROLE, OWNER_ENV_VAR
from services.platform.secretfile import write_secret
from services.platform.servers import (
    WEED_PORTS,
    ServerSpec,
    StackError,
    free_port,
    port_in_use,
    start_nats,
    start_postgres,
    start_weed,
    stop_postgres,
)
from services.platform.settings import ENV_PREFIX, Settings, load_settings
from services.platform.tenants import TenantRegistry, reload_nats

SERVERS = ("postgres", "nats", "s3")
_EXTERNAL_VAR = {"postgres": "DATABASE_URL", "nats": "NATS_URL", "s3": "S3_ENDPOINT"}
_PINNED_PORT = {"postgres": "stack_postgres_port", "nats": "stack_nats_port", "s3": "stack_s3_port"}


@dataclass
class ServerStatus:
    name: str
    state: str  # running | stopped | external | absent
    port: int | None
    pid: int | None
    data_dir: str | None
    log_path: str | None
    url: str | None = None


class Stack:
    def __init__(self, home: Path, progress: Callable[[str], None] = lambda _m: None) -> None:
        self.home = home
        self.progress = progress
        self.state_path = home / "state.json"
        self.secrets_path = home / "secrets.json"
        self.env_path = home / "env"

    # --- persisted state ---------------------------------------------------------------------

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            return dict(json.loads(path.read_text()))
        except FileNotFoundError:
            return {}

    def _save(self, path: Path, data: dict[str, Any]) -> None:
        write_secret(path, json.dumps(data, indent=2))

    def _secrets(self) -> dict[str, str]:
        data = self._load(self.secrets_path)
        for key in ("nats_user", "nats_password", "pg_password", "s3_access_key", "s3_secret_key",
                    "pg_app_password", "tenant_secret"):
            if key not in data:
                data[key] = ("vox" + secrets.token_hex(6)) if key.endswith(("user", "access_key")) \
                    else secrets.token_hex(24)
        self._save(self.secrets_path, data)
        return {k: str(v) for k, v in data.items()}

    def spec(self, name: str, ports: dict[str, int] | None = None) -> ServerSpec:
        base = self.home / name
        return ServerSpec(name=name, data_dir=base / "data", log_path=self.home / "logs" / f"{name}.log",
                          ports=dict(ports or {}))

    def external(self, name: str) -> str | None:
        """The URL of an external server the environment names, if any. Only the real
        environment decides: .voxledger/env holds our own URLs, and exporting them (``set -a;
        . .voxledger/env``) before another ``up`` must not turn our own servers "external"."""
        var = ENV_PREFIX + _EXTERNAL_VAR[name]
        value = os.environ.get(var) or None
        if value is not None and value == self._own_env().get(var):
            return None
        return value

    def _own_env(self) -> dict[str, str]:
        try:
            text = self.env_path.read_text()
        except OSError:
            return {}
        pairs = (line.split("=", 1) for line in text.splitlines()
                 if "=" in line and not line.startswith("#"))
        return {k.strip(): v.strip() for k, v in pairs}

    # --- status ------------------------------------------------------------------------------

    @staticmethod
    def _alive(entry: dict[str, Any]) -> bool:
        pid = entry.get("pid")
        if not pid:
            return False
        try:
            proc = psutil.Process(int(pid))
            if proc.status() == psutil.STATUS_ZOMBIE:
                return False
            return bool(abs(proc.create_time() - float(entry.get("started", 0))) < 5) \
                or entry.get("binary", "") in " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return False

    def status(self) -> list[ServerStatus]:
        state = self._load(self.state_path)
        out = []
        for name in SERVERS:
            ext = self.external(name)
            if ext:
                out.append(ServerStatus(name, "external", None, None, None, None, _redact(ext)))
                continue
            entry = state.get(name)
            if not entry:
                out.append(ServerStatus(name, "absent", None, None, None, None))
                continue
            running = self._alive(entry) and port_in_use(int(entry["ports"]["main"]))
            out.append(ServerStatus(name, "running" if running else "stopped",
                                    int(entry["ports"]["main"]), entry.get("pid") if running else None,
                                    entry["data_dir"], entry["log_path"]))
        return out

    # --- up ------------------------------------------------------------------------------------

    def up(self) -> Settings:
        self.home.mkdir(parents=True, exist_ok=True)
        # 0711: private listing, but traversable for the postgres system user when we run as root
        os.chmod(self.home, 0o711 if os.geteuid() == 0 else 0o700)
        creds = self._secrets()
        self._private_dirs()
        pinned = load_settings(use_env_file=False)
        state = self._load(self.state_path)
        for name in SERVERS:
            if self.external(name):
                self.progress(f"{name}: using external server from {ENV_PREFIX}{_EXTERNAL_VAR[name]}")
                continue
            entry = state.get(name) or (self._adopt_postgres() if name == "postgres" else None)
            if entry and self._alive(entry) and port_in_use(int(entry["ports"]["main"])):
                state[name] = entry
                self.progress(f"{name}: already running (pid {entry['pid']}, port {entry['ports']['main']})")
                continue
            if entry and self._alive(entry):
                self._terminate(name, entry)  # alive but deaf: restart it cleanly
            ports = self._choose_ports(name, entry, int(getattr(pinned, _PINNED_PORT[name])))
            spec = self.spec(name, ports)
            self.progress(f"{name}: starting on 127.0.0.1:{ports['main']} (log {spec.log_path})")
            t0 = time.monotonic()
            pid = self._start(name, spec, creds)
            state[name] = {"pid": pid, "ports": ports, "data_dir": str(spec.data_dir),
                           "log_path": str(spec.log_path), "started": psutil.Process(pid).create_time(),
                           "binary": {"nats": "nats-server", "s3": "weed", "postgres": "postgres"}[name]}
            self._save(self.state_path, state)
            self.progress(f"{name}: ready in {time.monotonic() - t0:.1f}s")
        self._save(self.state_path, state)
        self.sync_nats()  # a server started by an older version still has one all-powerful user
        self._write_env(state, creds)
        settings = load_settings()
        LocalKeyProviderFile.ensure(settings.keyring_path, self.progress)
        from services.platform.provision import provision

        provision(settings, self.progress, postgres_managed=not self.external("postgres"),
                  app_password=creds["pg_app_password"])
        from services.platform.signing_setup import ensure_signing_identity

        ensure_signing_identity(settings, self.progress)
        return settings

    def _private_dirs(self) -> None:
        """Server data and logs readable by us only (postgres' dir stays traversable for its
        system user when we are root; its data dir is 0700 and its own)."""
        for name in ("nats", "s3", "logs", "postgres"):
            path = self.home / name
            if name != "logs" and self.external(name):
                continue
            path.mkdir(exist_ok=True)
            os.chmod(path, 0o711 if name in ("postgres", "logs") and os.geteuid() == 0 else 0o700)
        for log in (self.home / "logs").glob("*.log"):
            if log.stat().st_mode & 0o077:
                os.chmod(log, 0o600)  # written world-readable by an older version: tighten

    def _adopt_postgres(self) -> dict[str, Any] | None:
        """A postmaster we started but lost track of (state file removed) still owns the data dir."""
        spec = self.spec("postgres")
        pidfile = spec.data_dir / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            started = psutil.Process(pid).create_time()
        except (OSError, ValueError, IndexError, psutil.Error):
            return None
        return {"pid": pid, "ports": {"main": port}, "data_dir": str(spec.data_dir),
                "log_path": str(spec.log_path), "started": started, "binary": "postgres"}

    def _choose_ports(self, name: str, entry: dict[str, Any] | None, pinned: int) -> dict[str, int]:
        names = WEED_PORTS if name == "s3" else ("main",)
        if pinned:
            if port_in_use(pinned):
                raise StackError(
                    f"{name}: port {pinned} (set by {ENV_PREFIX}{_PINNED_PORT[name].upper()}) is "
                    "already in use by another process; free it or choose another port"
                )
            previous = {"main": pinned}
        else:
            previous = dict(entry["ports"]) if entry else {}
        ports: dict[str, int] = {}
        for key in names:
            # Keep the previous port when free, so running consumers reconnect to the same URL.
            port = previous.get(key)
            if not port or port_in_use(port) or port in ports.values():
                port = free_port()
                while port in ports.values():
                    port = free_port()
            ports[key] = port
        return ports

    def _start(self, name: str, spec: ServerSpec, creds: dict[str, str]) -> int:
        if name == "nats":
            registry = self.tenants()
            registry.write_config(registry.nats_config(creds, spec.port, spec.data_dir))
            return start_nats(spec, registry.conf_path)
        if name == "postgres":
            return start_postgres(spec, creds["pg_password"])
        return start_weed(spec, creds["s3_access_key"], creds["s3_secret_key"],
                          ready=lambda: _s3_ready(spec.port, creds))

    def tenants(self) -> TenantRegistry:
        prefix = load_settings(use_env_file=False).subject_prefix
        return TenantRegistry(self.home, prefix)

    def sync_nats(self) -> bool:
        """Rewrite the embedded server's users from the tenant registry; reload it if they changed.
        False when NATS is external or not running (it reads the config when it starts)."""
        entry = self._load(self.state_path).get("nats")
        if self.external("nats") or not entry or not self._alive(entry):
            return False
        registry = self.tenants()
        text = registry.nats_config(self._secrets(), int(entry["ports"]["main"]),
                                    self.spec("nats").data_dir)
        if registry.write_config(text):
            reload_nats(int(entry["pid"]))
        return True

    def _write_env(self, state: dict[str, Any], creds: dict[str, str]) -> None:
        lines = [f"# written by `voxledger up` at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}; "
                 "variables set in the environment win"]
        if "postgres" in state and not self.external("postgres"):
            port = state["postgres"]["ports"]["main"]
            # Every process logs in as the app role (no DDL); the owner only in owner.env.
            lines.append(f"{ENV_PREFIX}DATABASE_URL=postgresql://{APP_ROLE}:"
                         f"{creds['pg_app_password']}@127.0.0.1:{port}/voxledger")
            write_secret(self.home / "owner.env",
                         f"{OWNER_ENV_VAR}=postgresql://voxledger:{creds['pg_password']}"
                         f"@127.0.0.1:{port}/voxledger\n")
        if "nats" in state and not self.external("nats"):
            lines += [f"{ENV_PREFIX}NATS_URL=nats://127.0.0.1:{state['nats']['ports']['main']}",
                      f"{ENV_PREFIX}NATS_USER={creds['nats_user']}",
                      f"{ENV_PREFIX}NATS_PASSWORD={creds['nats_password']}"]
        if "s3" in state and not self.external("s3"):
            lines += [f"{ENV_PREFIX}S3_ENDPOINT=http://127.0.0.1:{state['s3']['ports']['main']}",
                      f"{ENV_PREFIX}S3_ACCESS_KEY={creds['s3_access_key']}",
                      f"{ENV_PREFIX}S3_SECRET_KEY={creds['s3_secret_key']}"]
        lines.append(f"{ENV_PREFIX}HOME={self.home}")
        write_secret(self.env_path, "\n".join(lines) + "\n")

    # --- down ----------------------------------------------------------------------------------

    def down(self) -> list[str]:
        state = self._load(self.state_path)
        stopped = []
        for name in reversed(SERVERS):
            entry = state.get(name)
            if not entry or not self._alive(entry):
                continue
            self.progress(f"{name}: stopping (pid {entry['pid']})")
            self._terminate(name, entry)
            stopped.append(name)
        return stopped

    def _terminate(self, name: str, entry: dict[str, Any]) -> None:
        if name == "postgres":
            try:
                stop_postgres(self.spec(name, entry["ports"]))
                return
            except StackError:
                pass  # fall back to signals below
        try:
            proc = psutil.Process(int(entry["pid"]))
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        except psutil.TimeoutExpired:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


class LocalKeyProviderFile:
    @staticmethod
    def ensure(path: Path, progress: Callable[[str], None]) -> None:
        from services.platform.keys import LocalKeyProvider

        if LocalKeyProvider.create_file(path):
            progress(f"keys: generated development keyring {path} (mode 0600)")


def _s3_ready(port: int, creds: dict[str, str]) -> bool:
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                          aws_access_key_id=creds["s3_access_key"],
                          aws_secret_access_key=creds["s3_secret_key"],
                          config=Config(retries={"max_attempts": 1}, connect_timeout=1,
                                        read_timeout=2))
    client.list_buckets()
    return True


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
