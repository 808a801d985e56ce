"""Audio over HTTP: the whole file equals `voxledger audio export`, and Range requests return
exactly the matching bytes (206 with Content-Range; 416 past the end), WAV and FLAC; each
request is sealed as access.audio."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.api.tokens import Role
from tests.integration.api_world import World

pytestmark = pytest.mark.integration
WHY = {"reason": "listening for complaint C-19"}


def _export(tenant: str, session: str, out: Path, fmt: str, unheard: bool = False) -> bytes:
    args = [sys.executable, "-m", "services.cli", "audio", "export", session, "-o", str(out),
            "--format", fmt, "--tenant", tenant] + (["--unheard"] if unheard else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.fixture(scope="module")
def http(api_world: World) -> Iterator[httpx.Client]:
    token = api_world.token(api_world.tenants[0], Role.REVIEWER)
    with httpx.Client(base_url=api_world.url, timeout=300,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_whole_file_and_ranges_match_the_cli_export(api_world: World, http: httpx.Client,
                                                    tmp_path: Path, fmt: str) -> None:
    own = api_world.tenants[0]
    sid = api_world.sessions[own][0]
    expected = _export(own, sid, tmp_path / f"a.{fmt}", fmt)
    url = f"/v1/sessions/{sid}/audio"
    whole = http.get(url, params={"format": fmt, **WHY})
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == f"audio/{fmt}"
    assert whole.content == expected
    size = len(expected)
    chunk = 64 * 1024  # the recording's encryption chunk: ranges across its boundaries
    spans = [(0, 0), (0, 43), (40, 100), (chunk - 50, chunk + 50), (3 * chunk - 1, 5 * chunk + 7),
             (size - 10, size - 1), (size - 1, size - 1)]
    for first, last in spans:
        res = http.get(url, params={"format": fmt, **WHY},
                       headers={"Range": f"bytes={first}-{last}"})
        assert res.status_code == 206, (first, last, res.text[:200])
        assert res.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert res.content == expected[first:last + 1], (first, last)
    for header, want in ((f"bytes={size - 100}-", expected[size - 100:]),
                         ("bytes=-333", expected[-333:]),
                         (f"bytes=10-{size + 999}", expected[10:])):
        res = http.get(url, params={"format": fmt, **WHY}, headers={"Range": header})
        assert res.status_code == 206 and res.content == want, header
    for unsatisfiable in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}"):
        res = http.get(url, params={"format": fmt, **WHY}, headers={"Range": unsatisfiable})
        assert res.status_code == 416 and res.headers["content-range"] == f"bytes */{size}"
    # Several ranges or nonsense: ignored, the whole file is sent (RFC 9110 §14.2).
    res = http.get(url, params={"format": fmt, **WHY}, headers={"Range": "bytes=0-1,5-9"})
    assert res.status_code == 200 and res.content == expected


def test_unheard_track_and_reason_and_access_events(api_world: World, http: httpx.Client,
                                                    tmp_path: Path) -> None:
    own = api_world.tenants[0]
    sid = api_world.sessions[own][1]
    url = f"/v1/sessions/{sid}/audio"
    assert http.get(url).status_code == 422  # audio is content: a reason is required
    unheard = http.get(url, params={"track": "unheard", **WHY})
    if unheard.status_code == 200:
        assert unheard.content == _export(own, sid, tmp_path / "u.wav", "wav", unheard=True)
    else:
        assert unheard.status_code == 404  # a session with nothing cut has no unheard track
    http.get(url, params=WHY, headers={"Range": "bytes=100-199"})
    auditor = api_world.token(own, Role.AUDITOR)
    events = httpx.get(f"{api_world.url}/v1/access-log", params={"limit": 500},
                       headers={"Authorization": f"Bearer {auditor}"}, timeout=60).json()
    audio = [e["body"] for e in events["events"] if e["type"] == "access.audio"
             and e["body"]["sessions"] == [sid]]
    assert audio and audio[-1]["bytes"] == "100-199" and audio[-1]["reason"] == WHY["reason"]
    assert audio[-1]["track"] == "heard" and audio[-1]["format"] == "wav"
