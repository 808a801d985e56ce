"""`voxledger audio export | rebuild` and `sessions show --json` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from services.audio.store import object_key
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from tests.integration.test_audio_recordings import _record, _sealed

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("voxledger")
    return subprocess.run([str(exe), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


async def test_export_rebuild_and_show(settings: Settings, tenant: str, tmp_path: Path) -> None:
    sealer, sim = await _sealed(settings, tenant, "twilio")
    try:
        await _record(settings, sealer, tenant)
    finally:
        await sealer.close()
    sid = sim.session_id
    for fmt in ("wav", "flac"):
        out = tmp_path / f"call.{fmt}"
        res = _cli("audio", "export", sid, "--tenant", tenant, "-o", str(out), "--format", fmt)
        assert res.returncode == 0, res.stderr
        info = soundfile.info(str(out))
        print(fmt, info.channels, info.samplerate, info.duration)
        assert info.channels == 2 and abs(info.duration * 1000 - sim.duration_ms) <= 20
        if shutil.which("ffprobe"):
            probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=channels",
                                    "-of", "json", str(out)], capture_output=True, text=True)
            assert json.loads(probe.stdout)["streams"][0]["channels"] == 2
    unheard = tmp_path / "unheard.wav"
    assert _cli("audio", "export", sid, "--tenant", tenant, "-o", str(unheard),
                "--unheard").returncode == 0
    assert soundfile.info(str(unheard)).channels == 1
    rebuilt = _cli("audio", "rebuild", sid, "--tenant", tenant)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert all(v["matches"] for v in json.loads(rebuilt.stdout).values())
    missing = _cli("audio", "export", "no-such-session", "--tenant", tenant, "-o",
                   str(tmp_path / "x.wav"))
    assert missing.returncode == 2 and not (tmp_path / "x.wav").exists()
    # One flipped byte in the stored object: export refuses and leaves no file behind.
    s3, key = make_s3_client(settings), object_key(tenant, sid, "heard")
    blob = bytearray(s3.get_object(Bucket=settings.bucket_audio, Key=key)["Body"].read())
    blob[len(blob) // 2] ^= 0x01
    s3.put_object(Bucket=settings.bucket_audio, Key=key, Body=bytes(blob))
    bad = _cli("audio", "export", sid, "--tenant", tenant, "-o", str(tmp_path / "bad.wav"))
    assert bad.returncode == 1 and "verification failed" in bad.stderr
    assert not (tmp_path / "bad.wav").exists()
    shown = _cli("sessions", "show", sid, "--tenant", tenant, "--json")
    if shown.returncode == 0:  # the session catalog consumer is not part of this test
        audio = json.loads(shown.stdout)["audio"]
        assert audio["channels"] == 2 and audio["sample_rate"] == settings.audio_sample_rate
        assert audio["object_key"] == object_key(tenant, sid, "heard")
