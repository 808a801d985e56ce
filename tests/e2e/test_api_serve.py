"""`voxledger serve` as a user runs it: it says where it listens, answers with a token made by
`voxledger tokens create`, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import re
import secrets
import signal
import subprocess
import sys
import time

import httpx
import pytest

from services.platform.settings import Settings

pytestmark = pytest.mark.e2e
VOX = [sys.executable, "-m", "services.cli"]


def test_serve_answers_and_stops(settings: Settings) -> None:
    tenant = "e2e-" + secrets.token_hex(4)
    made = subprocess.run([*VOX, "tokens", "create", "--tenant", tenant, "--role", "reviewer",
                           "--name", "e2e", "--json"], capture_output=True, text=True, timeout=120,
                          check=True)
    token = json.loads(made.stdout)["token"]
    proc = subprocess.Popen([*VOX, "serve", "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"API on (http://\S+)/v1", line)
            url = m.group(1) if m else None
        assert url, "serve never said where it listens"
        assert url.startswith("http://127.0.0.1:")  # loopback by default
        me = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert me.status_code == 200 and me.json()["tenant_id"] == tenant
        listed = httpx.get(f"{url}/v1/sessions", headers={"Authorization": f"Bearer {token}"},
                           timeout=30)
        assert listed.status_code == 200 and listed.json()["sessions"] == []
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    assert code == 0
