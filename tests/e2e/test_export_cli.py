"""``voxledger export training`` and ``voxledger redact reprocess`` as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.simulator import simulate
from services.simulator.script import build_script
from tests.integration.consumers import running, wait_for
from tests.integration.redaction_helpers import (
    counts,
    leaks,
    redaction_for,
    transcripts_for,
)

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def voxledger(*args: str) -> subprocess.CompletedProcess[str]:
    # An unreachable proxy for the internet (nothing may be downloaded); the stack is local.
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=REPO, text=True,
                          capture_output=True, env=env, timeout=600)


async def test_export_and_reprocess_from_the_command_line(
        settings: Settings, tenant: str, sync_engine: Engine) -> None:
    await simulate(settings, "openai", sessions=1, seed=random.randrange(1, 10**6),
                   tenant=tenant, consent={"training": "granted"})
    seen = counts(sync_engine, tenant)

    async def redacted() -> bool:
        return await seen() == (1, 1)
    async with running(settings, transcripts_for(settings, tenant)), \
            running(settings, redaction_for(settings, tenant)):
        await wait_for(redacted)

    proc = voxledger("export", "training", "--tenant", tenant, "--json")
    assert proc.returncode == 0, proc.stderr
    assert "sessions" in proc.stderr  # progress goes to stderr, the manifest to stdout
    out = json.loads(proc.stdout)
    assert out["counts"]["sessions"] == 1 and out["format"] == "openai-chat"
    s3 = make_s3_client(settings)
    [part] = out["files"]
    body = s3.get_object(Bucket=out["bucket"], Key=part["key"])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == part["sha256"]
    again = voxledger("export", "training", "--tenant", tenant)
    assert again.returncode == 0 and out["export_id"] in again.stdout

    later = voxledger("export", "training", "--tenant", tenant, "--since", "2999-01-01",
                      "--format", "jsonl", "--json")
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["counts"]["sessions"] == 0

    bad = voxledger("export", "training", "--tenant", tenant, "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr

    policy = REPO / ".voxledger" / f"policy-{tenant}.json"
    policy.write_text(json.dumps({"version": 2, "operators": {"PERSON": "placeholder"}}))
    try:
        re_run = voxledger("redact", "reprocess", "--tenant", tenant, "--policy", str(policy),
                           "--json")
    finally:
        policy.unlink()
    assert re_run.returncode == 0, re_run.stderr
    assert json.loads(re_run.stdout)["redacted"] == 1
    after = json.loads(voxledger("export", "training", "--tenant", tenant, "--json").stdout)
    assert after["export_id"] != out["export_id"] and after["policy"]["version"] == 2
    text = s3.get_object(Bucket=after["bucket"], Key=after["files"][0]["key"])["Body"].read()
    assert b"<PERSON>" in text and b"<PERSON_" not in text


def test_script_pii_checker_sees_raw_text() -> None:
    """The leak checker used above finds the script's PII in unredacted text (it can fail)."""
    script = build_script("openai:1:0")
    raw = " ".join(t.text for t in script.turns)
    assert set(leaks(raw, script)) >= {"name", "spelled letters", "digits as words", "digits"}
