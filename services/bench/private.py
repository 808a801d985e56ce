"""A private embedded stack and its processes, driven as a user would: ``voxledger up``,
``voxledger run`` as a subprocess, ``voxledger down``.

Used by the benchmark and by the fault tests, so neither touches the shared stack under
``.voxledger/``. Child processes get a clean environment: no inherited ``VOXLEDGER_*`` variable
can point them at another stack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from services.platform.settings import ENV_PREFIX, Settings

REPO = Path(__file__).resolve().parents[2]


class PrivateStackError(RuntimeError):
    """A command of the private stack failed; the message carries the tail of its stderr."""


class PrivateStack:
    def __init__(self, home: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.home = home.resolve()
        self.extra_env = extra_env or {}

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
        env[f"{ENV_PREFIX}HOME"] = str(self.home)
        # The API of a `voxledger run` on a free port: private stacks run side by side (pytest
        # workers, the bench), and two on the default 8470 collide (the second API stops, and
        # its server's bind error lands in the run's log as a line that is not JSON).
        env[f"{ENV_PREFIX}API_PORT"] = "0"
        env.update(self.extra_env)
        env.update(extra)
        return env

    def vox(self, *args: str, timeout: float = 300, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "services.cli", *args], env=self.env(),
                                cwd=REPO, text=True, capture_output=True, timeout=timeout,
                                check=False)
        if check and result.returncode != 0:
            raise PrivateStackError(f"voxledger {' '.join(args)} exited {result.returncode}: "
                                    + result.stderr[-1500:])
        return result

    def up(self) -> Settings:
        self.vox("up", timeout=600)
        return self.settings()

    def down(self) -> None:
        self.vox("down", check=False, timeout=120)

    def settings(self) -> Settings:
        """Settings read from this stack's env file only (explicit values beat the environment)."""
        values: dict[str, Any] = {}
        for line in (self.home / "env").read_text().splitlines():
            if line.startswith(ENV_PREFIX) and "=" in line:
                key, value = line.split("=", 1)
                values[key[len(ENV_PREFIX):].lower()] = value
        values["home"] = self.home
        values.update({k[len(ENV_PREFIX):].lower(): v for k, v in self.extra_env.items()
                       if k.startswith(ENV_PREFIX)})
        return Settings(_env_file=None, **values)

    def status(self) -> dict[str, dict[str, Any]]:
        import json

        rows = json.loads(self.vox("status", "--json").stdout)["servers"]
        return {r["name"]: r for r in rows}

    def spawn(self, args: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
        """A ``voxledger`` subcommand as a child process, stderr appended to ``log``."""
        log.parent.mkdir(parents=True, exist_ok=True)
        out: IO[bytes]
        with log.open("ab") as out:  # the child keeps its own descriptor
            return subprocess.Popen([sys.executable, "-m", "services.cli", *args],
                                    env=self.env(**env), cwd=REPO, stdout=subprocess.DEVNULL,
                                    stderr=out)

    def run(self, log: Path, only: list[str] | None = None, **env: str
            ) -> subprocess.Popen[bytes]:
        args = ["run"]
        for name in only or []:
            args += ["--only", name]
        return self.spawn(args, log, **env)


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM (a clean stop: in-flight batches commit then ack), SIGKILL if it hangs."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def kill9(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


class Consumers:
    """Each consumer in its own ``voxledger run --only NAME`` process, so one can be killed alone."""

    def __init__(self, stack: PrivateStack, names: list[str], logs: Path) -> None:
        self.stack, self.names, self.logs = stack, names, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str | None = None) -> None:
        for n in [name] if name else self.names:
            if n not in self.procs or self.procs[n].poll() is not None:
                self.procs[n] = self.stack.run(self.logs / f"{n}.log", [n])

    def kill9(self, name: str) -> None:
        kill9(self.procs[name])

    def dead(self) -> list[str]:
        return [n for n, p in self.procs.items() if p.poll() is not None]

    def stop(self) -> None:
        for proc in self.procs.values():
            stop(proc)

    def log_tail(self, chars: int = 1500) -> str:
        return "\n".join(f"--- {n}\n" + (self.logs / f"{n}.log").read_text()[-chars:]
                         for n in self.names if (self.logs / f"{n}.log").exists())


def server_pid(stack: PrivateStack, name: str) -> int:
    return int(stack.status()[name]["pid"])
