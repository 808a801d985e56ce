"""``make demo``: record simulated calls of every provider through the whole pipeline.

Starts ``voxledger run`` (consumers and the HTTP API), simulates sessions, waits until every
consumer caught up, prints what is stored where, verifies the ledger when that command exists,
creates a reviewer token and reads the sessions back through the API with it, then prints the
API's URL and the token, and stops the runner. Exit 0 only when every published event was
processed and the API answered.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
VOX = [sys.executable, "-m", "services.cli"]


def _vox(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*VOX, *args], text=True, check=False,
                            stdout=subprocess.PIPE if capture else None)
    if check and result.returncode != 0:
        console.print(f"[red]`voxledger {' '.join(args)}` failed with exit {result.returncode}[/]")
        sys.exit(1)
    return result


def _has_command(name: str) -> bool:
    return _vox(name, "--help", check=False).returncode == 0


def storage_summary() -> dict[str, Any]:
    import asyncio

    from sqlalchemy import text

    from services.platform.db import make_engine
    from services.platform.nats import connect
    from services.platform.s3 import make_s3_client
    from services.platform.settings import load_settings

    settings = load_settings()
    summary: dict[str, Any] = {"postgres": {}, "s3": {}, "nats": {}}
    with make_engine(settings).connect() as conn:
        tables = conn.execute(text(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY relname")).all()
        for name, _ in tables:
            count = conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            summary["postgres"][name] = int(count)
    s3 = make_s3_client(settings)
    for bucket in (settings.bucket_ledger, settings.bucket_worm, settings.bucket_audio,
                   settings.bucket_exports):
        objects = size = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                objects += 1
                size += obj["Size"]
        summary["s3"][bucket] = {"objects": objects, "bytes": size}

    async def stream() -> dict[str, int]:
        nc = await connect(settings, name="voxledger-demo")
        try:
            info = await nc.jetstream().stream_info(settings.stream_name)
            return {"messages": int(info.state.messages), "bytes": int(info.state.bytes)}
        finally:
            await nc.close()

    summary["nats"][settings.stream_name] = asyncio.run(stream())
    return summary


def api_port(host: str, wanted: int) -> int:
    """The configured API port when it is free, else a free one (another stack may hold it)."""
    with socket.socket() as s:
        try:
            s.bind((host, wanted))
            return wanted
        except OSError:
            s.bind((host, 0))
            return int(s.getsockname()[1])


def api_get(url: str, token: str | None = None, timeout: float = 10) -> tuple[int, Any]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return int(res.status), json.loads(res.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), None
    except (urllib.error.URLError, OSError):
        return 0, None


def check_api(base: str, tenant: str, expected: set[str]) -> str | None:
    """A reviewer token that lists exactly the demo's sessions through the API, or None."""
    deadline = time.monotonic() + 60
    while api_get(f"{base}/openapi.json")[0] != 200:
        if time.monotonic() > deadline:
            console.print(f"[red]the API did not answer at {base}[/]")
            return None
        time.sleep(0.5)
    made = json.loads(_vox("tokens", "create", "--tenant", tenant, "--role", "reviewer",
                           "--name", "demo reviewer", "--json").stdout)
    status, page = api_get(f"{base}/v1/sessions?limit=200", made["token"])
    listed = {s["session_id"] for s in (page or {}).get("sessions", [])}
    if status != 200 or listed != expected:
        console.print(f"[red]GET /v1/sessions answered {status} with {len(listed)} sessions[/]")
        return None
    return str(made["token"])


def main() -> int:
    from services.platform.settings import load_settings

    home = Path(os.environ.get("VOXLEDGER_HOME", ".voxledger"))
    log_path = home / "logs" / "demo-run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tenant = f"demo-{int(time.time())}"
    settings = load_settings()
    port = api_port(settings.api_host, settings.api_port)
    base = f"http://{settings.api_host}:{port}"
    console.rule("[bold]Voxledger demo")
    console.print(f"starting consumers and the API (`voxledger run`, log {log_path})")
    from services.platform.secretfile import open_private_log
    from services.platform.settings import load_settings

    log = open_private_log(log_path)  # the run's log is the operator's only
    try:
        runner = subprocess.Popen([*VOX, "run"], stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "VOXLEDGER_API_PORT": str(port)})
    finally:
        os.close(log)
    console.print(f"metrics: curl http://{load_settings().metrics_listen}/metrics")
    try:
        console.print(f"simulating 2 sessions per provider as tenant [bold]{tenant}[/]")
        sim = _vox("simulate", "--provider", "all", "--sessions", "2", "--seed", "7",
                   "--tenant", tenant, "--json")
        sessions = json.loads(sim.stdout)["sessions"]
        console.print(f"published {sum(s['events'] for s in sessions)} events in "
                      f"{len(sessions)} sessions; waiting for the consumers")
        _vox("wait", "--timeout", "1200", capture=False)
        listed = json.loads(_vox("sessions", "list", "--tenant", tenant, "--limit", "1000",
                                 "--json").stdout)["sessions"]
        stored = {s["session_id"]: s for s in listed}
        table = Table("provider", "session", "duration", "published", "recorded", "ended")
        ok = True
        for s in sessions:
            row = stored.get(s["session_id"], {})
            match = row.get("events") == s["events"]
            ok &= match and bool(row.get("ended_at"))
            table.add_row(s["provider"], s["session_id"], f"{s['duration_ms'] / 1000:.1f}s",
                          str(s["events"]), f"[{'green' if match else 'red'}]{row.get('events')}[/]",
                          "yes" if row.get("ended_at") else "[red]no[/]")
        console.print(table)
        summary = storage_summary()
        store = Table("store", "what", "count")
        for name, count in summary["postgres"].items():
            store.add_row("postgres", name, f"{count} rows")
        for bucket, info in summary["s3"].items():
            store.add_row("s3", bucket, f"{info['objects']} objects, {info['bytes']} bytes")
        for stream, info in summary["nats"].items():
            store.add_row("nats", f"stream {stream}", f"{info['messages']} msgs, {info['bytes']} bytes")
        console.print(store)
        if _has_command("verify"):
            verified = _vox("verify", "--tenant", tenant, check=False, capture=False)
            ok &= verified.returncode == 0
            console.print("ledger verify: " + ("[green]ok[/]" if verified.returncode == 0
                                               else "[red]FAILED[/]"))
        token = check_api(base, tenant, {s["session_id"] for s in sessions})
        ok &= token is not None
        if token is not None:
            console.print(f"API: [bold]{base}/v1[/] (docs {base}/docs), served by `make run`, "
                          f"`voxledger run` or `voxledger serve`"
                          + ("" if port == settings.api_port else f" with VOXLEDGER_API_PORT={port}"))
            console.print(f"reviewer token of tenant {tenant} (shown once):")
            print(token)
            console.print(f'try: curl -H "Authorization: Bearer {token}" {base}/v1/sessions',
                          highlight=False, soft_wrap=True)
            console.print(f"reviewer console: [bold]{base}/console[/] (sign in with the token)")
        console.print("[green]demo complete[/]" if ok else "[red]demo found missing events[/]")
        return 0 if ok else 1
    finally:
        runner.send_signal(signal.SIGTERM)
        try:
            runner.wait(timeout=30)
        except subprocess.TimeoutExpired:
            runner.kill()


if __name__ == "__main__":
    sys.exit(main())
