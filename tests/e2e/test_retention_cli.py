"""`voxledger retention set|show|run`, `hold place|list|release` and the object-lock canary of
`status`, as a user runs them against the real stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=300, check=False,
                          env={**os.environ, "COLUMNS": "200"})


def ok(*args: str) -> Any:
    res = cli(*args)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_policies_from_the_command_line(tenant: str) -> None:
    changed = ok("retention", "set", "--tenant", tenant, "--class", "recordings", "--days", "90",
                 "--actor", "dpo@example", "--json")
    assert (changed["old_days"], changed["new_days"], changed["changed_by"]) == \
        (None, 90, "dpo@example")
    again = ok("retention", "set", "--tenant", tenant, "--class", "recordings", "--forever",
               "--json")
    assert (again["old_days"], again["new_days"]) == (90, None)
    ok("retention", "set", "--tenant", tenant, "--class", "transcripts", "--days", "30",
       "--retention-class", "pci", "--json")
    shown = ok("retention", "show", "--tenant", tenant, "--json")["tenants"][0]
    assert shown["classes"]["recordings"] == {"days": None, "source": "tenant"}
    assert shown["retention_classes"] == {"pci": {"transcripts": {"days": 30}}}

    short = cli("retention", "set", "--tenant", tenant, "--class", "raw_events", "--days", "2")
    assert short.returncode == 2 and "NATS buffer" in short.stderr
    both = cli("retention", "set", "--tenant", tenant, "--class", "raw_events", "--days", "30",
               "--forever")
    assert both.returncode == 2 and "exactly one" in both.stderr
    bad = cli("retention", "set", "--tenant", tenant, "--class", "voicemail", "--days", "30")
    assert bad.returncode == 2 and "unknown data class" in bad.stderr
    as_of = cli("retention", "run", "--tenant", tenant, "--as-of", "2030-01-01")
    assert as_of.returncode == 2 and "--dry-run" in as_of.stderr


def test_holds_from_the_command_line(tenant: str) -> None:
    placed = ok("hold", "place", "--tenant", tenant, "--session", "s-cli-1", "--matter",
                "Roe v. Acme", "--reason", "preserve the call", "--actor", "counsel", "--json")
    assert placed["active"] and placed["scope"] == "session" and placed["sessions"] == 0
    assert "not recorded" in placed["warnings"][0]
    by_mail = ok("hold", "place", "--tenant", tenant, "--email", "Jane.Doe@Example.com",
                 "--matter", "Roe v. Acme", "--reason", "custodian", "--json")
    assert by_mail["subject_kind"] == "email" and "jane" not in json.dumps(by_mail).lower()
    listed = ok("hold", "list", "--tenant", tenant, "--json")["holds"]
    assert [h["hold_id"] for h in listed] == [placed["hold_id"], by_mail["hold_id"]]

    released = ok("hold", "release", placed["hold_id"], "--reason", "settled", "--json")
    assert not released["active"] and released["release_reason"] == "settled"
    active = ok("hold", "list", "--tenant", tenant, "--active", "--json")["holds"]
    assert [h["hold_id"] for h in active] == [by_mail["hold_id"]]
    twice = cli("hold", "release", placed["hold_id"], "--reason", "again")
    assert twice.returncode == 2 and "already released" in twice.stderr
    unknown = cli("hold", "release", "no-such-hold", "--reason", "x")
    assert unknown.returncode == 2 and "hold list" in unknown.stderr
    two = cli("hold", "place", "--tenant", tenant, "--session", "s", "--all", "--matter", "M",
              "--reason", "r")
    assert two.returncode == 2 and "exactly one" in two.stderr
    ok("hold", "release", by_mail["hold_id"], "--reason", "done", "--json")


def test_status_runs_the_object_lock_canary() -> None:
    status = ok("status", "--json")
    lock = status["object_lock"]
    assert lock["ok"] is True, lock
    assert lock["legal_hold"]["enforced"] and lock["compliance"]["enforced"]
