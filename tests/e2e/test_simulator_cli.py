"""`voxledger simulate` as a user runs it, against the stack `voxledger up` started."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.platform.settings import Settings
from services.simulator import SimulatedSession
from tests.integration.stream_helpers import stored_frames

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def simulate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", "simulate", *args], cwd=REPO,
                          text=True, capture_output=True, timeout=600, check=False,
                          env={**os.environ, **(env or {})})


def test_simulate_json_matches_schema_and_stream(settings: Settings, tenant: str) -> None:
    result = simulate("--provider", "twilio", "--sessions", "2", "--seed", "5",
                      "--tenant", tenant, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert set(out) == {"sessions"} and len(out["sessions"]) == 2
    for raw in out["sessions"]:
        session = SimulatedSession.model_validate(raw)
        assert {"tenant_id", "session_id", "provider", "events", "duration_ms"} <= set(raw)
        assert session.provider == "twilio" and session.tenant_id == tenant
        for turn in raw["script"]["turns"]:
            assert {"speaker", "text", "start_ms", "end_ms", "heard_ms"} <= set(turn)
        assert raw["script"]["tool_calls"]
        assert asyncio.run(stored_frames(settings, tenant, session.session_id)) == session.events
    assert "published 2 session(s)" in result.stderr


def test_same_seed_same_scripts(settings: Settings, tenant: str) -> None:
    runs = [simulate("--provider", "custom", "--seed", "9", "--tenant", f"{tenant}-{i}", "--json")
            for i in range(2)]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    scripts = [json.loads(r.stdout)["sessions"][0] for r in runs]
    assert scripts[0]["script"] == scripts[1]["script"]
    assert scripts[0]["events"] == scripts[1]["events"]


@pytest.mark.parametrize(("args", "message"), [
    (["--provider", "skype"], "unknown provider"),
    (["--tenant", "Bad Tenant!"], "--tenant must match"),
])
def test_bad_arguments_give_one_clear_line(args: list[str], message: str) -> None:
    result = simulate(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_help() -> None:
    result = simulate("--help")
    assert result.returncode == 0 and "--realtime" in result.stdout


def test_unreachable_nats_is_one_line(tenant: str) -> None:
    result = simulate("--seed", "1", "--tenant", tenant,
                      env={"VOXLEDGER_NATS_URL": "nats://127.0.0.1:1"})
    assert result.returncode == 1
    assert "NATS is unreachable" in result.stderr and "Traceback" not in result.stderr
