"""``voxledger redact`` as a user runs it: stdin lines in, the same number of lines out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def redact(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    # An unreachable proxy: any attempt to download a model or a suffix list fails loudly.
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    return subprocess.run([sys.executable, "-m", "services.cli", "redact", *args], cwd=REPO,
                          input=stdin, capture_output=True, env=env, timeout=300)


def test_one_line_out_per_line_in_including_empty_and_long() -> None:
    long_line = ("we talked about the weather for a while " * 3000) + "call 415-555-0143"
    lines = ["my number is four one five, five five five, oh one three two", "", "",
             "It takes two days and costs $55.99 on Sunday.", long_line,
             "This is Maria Gonzalez, email maria dot g at gmail dot com", ""]
    proc = redact(stdin=("\n".join(lines) + "\n").encode())
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode().split("\n")
    assert out[-1] == ""
    out = out[:-1]
    assert len(out) == len(lines)
    assert out[0] == "my number is <PHONE_NUMBER>"
    assert out[1] == out[2] == out[6] == ""
    assert out[3] == lines[3]
    # Past the length bound (issue 12) the tail is withheld, never passed through unredacted.
    assert out[4].endswith("[TRUNCATED]") and "415-555-0143" not in out[4]
    assert "Maria" not in out[5] and "gmail" not in out[5] and "<PERSON_1>" in out[5]
    assert b"Traceback" not in proc.stderr


def test_context_uses_the_agent_question() -> None:
    dialogue = ("agent: And the security code on the back?\ncaller: seven three seven\n"
                "agent: How many items?\ncaller: seven three seven\n")
    proc = redact("--context", stdin=dialogue.encode())
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == [
        "agent: And the security code on the back?", "caller: <CVV>",
        "agent: How many items?", "caller: seven three seven"]
    # Without --context the same caller line is a quantity.
    plain = redact(stdin=b"seven three seven\n")
    assert plain.stdout.decode() == "seven three seven\n"


def test_context_alternates_without_prefixes() -> None:
    proc = redact("--context", stdin=b"what's your zip code?\nnine four one oh five\n")
    assert proc.stdout.decode().splitlines() == ["what's your zip code?", "<ZIP_CODE>"]


def test_json_has_entities_but_never_values() -> None:
    text = "card 4111 1111 1111 1111 please"
    proc = redact("--json", stdin=(text + "\n\n").encode())
    assert proc.returncode == 0, proc.stderr.decode()
    first, second = (json.loads(line) for line in proc.stdout.decode().splitlines())
    assert first["text"] == "card <CREDIT_CARD> please"
    (entity,) = first["entities"]
    assert set(entity) == {"type", "start", "end", "score"}
    assert entity["type"] == "CREDIT_CARD" and text[entity["start"]:entity["end"]] == (
        "4111 1111 1111 1111")
    assert first["policy_hash"].startswith("sha256:") and first["model"]
    assert "4111" not in json.dumps(first)
    assert second["text"] == "" and second["entities"] == []


def test_bad_utf8_is_a_clear_error() -> None:
    proc = redact(stdin=b"fine line\n\xff\xfe broken\nnever read\n")
    assert proc.returncode == 2
    assert b"line 2 is not valid UTF-8" in proc.stderr
    assert b"Traceback" not in proc.stderr
    assert proc.stdout.decode() == "fine line\n"
