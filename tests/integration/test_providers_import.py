"""``voxledger import`` against the real NATS: good frames land, bad lines are reported by number."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from services.platform.settings import Settings
from tests.conftest import REPO
from tests.integration.stream_helpers import stored_frames

pytestmark = pytest.mark.integration

LINES = [
    json.dumps({"direction": "server", "recorded_at": "2026-01-01T00:00:00Z", "frame": {
        "type": "session.created", "session": {"type": "realtime"}}}),
    json.dumps({"direction": "client", "recorded_at": "2026-01-01T00:00:00.020Z",
                "frame": {"type": "input_audio_buffer.append", "audio": "AAAAAAAA"}}),
    "garbage {{{ not json",
    json.dumps({"direction": "client", "recorded_at": 1767225600.04,
                "frame": {"type": "input_audio_buffer.append", "audio": "!!bad base64!!"}}),
    json.dumps({"type": "a.type.nobody.knows"}),
    json.dumps({"type": "response.output_audio.delta", "item_id": "i1", "delta": "AAAA"}),
]


async def test_import_keeps_good_frames_and_reports_bad_lines(
        settings: Settings, tenant: str, session_id: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", "import", "--provider", "openai-realtime",
         "--tenant", tenant, "--session", session_id, "--json", "-"],
        input="\n".join(LINES) + "\n", capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["events"] == 5 and summary["tenant_id"] == tenant
    assert summary["errors"] == [{"line": 3, "reason": "not_json"},
                                 {"line": 4, "reason": "invalid_base64:audio"},
                                 {"line": 5, "reason": "unknown_type"}]
    assert "bad base64" not in proc.stdout + proc.stderr
    # five frames plus the recorder's session.started and session.ended
    assert await stored_frames(settings, tenant, session_id) == 7
