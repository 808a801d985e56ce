"""Acceptance of session evidence bundles against the real stack (issue 16).

For a simulated session of each provider and for an imported log: seal it, record its audio and
transcript, export the bundle through the CLI, and run the bundle's own ``verify_bundle.py`` in a
fresh venv holding only ``cryptography``, ``zstandard`` and ``soundfile`` (raw audio is sealed
compressed since issue 13, as FLAC or zstd; Python 3.14+ needs no package for zstd): exit 0.
One changed byte in any file: exit 1 naming it.
An erased session's bundle says so and carries no plaintext.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from services.audio.consumer import AudioRecorder
from services.ledger.key_destruction import destroy_session_key
from services.platform.keys import LocalKeyProvider
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.simulator import simulate
from services.simulator.providers import PROFILES
from services.transcripts.consumer import make_transcripts
from tests.conftest import REPO
from tests.integration.consumers import isolate, running, wait_for
from tests.integration.ledger_helpers import TenantSealer
from tests.integration.test_providers_import import LINES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv with nothing but ``cryptography``, ``zstandard`` and ``soundfile`` (from the
    project's pins)."""
    home = tmp_path_factory.mktemp("verifier-venv")
    venv.EnvBuilder(with_pip=True).create(home)
    py = home / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"),
                    "cryptography", "zstandard", "soundfile"],
                   check=True, capture_output=True, timeout=600)
    listed = subprocess.run([str(py), "-m", "pip", "list", "--format", "json"], check=True,
                            capture_output=True, text=True).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert names <= {"cryptography", "cffi", "pycparser", "zstandard", "soundfile", "numpy",
                     "typing_extensions", "pip", "setuptools"}, names
    yield py


def _vox(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _run_verifier(py: Path, bundle: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    with zipfile.ZipFile(bundle) as zf:
        script = zf.read("verify_bundle.py")
    (tmp / "verify_bundle.py").write_bytes(script)
    # -I: isolated mode, nothing from this repository or the user site is importable.
    return subprocess.run([str(py), "-I", str(tmp / "verify_bundle.py"), str(bundle)],
                          capture_output=True, text=True, timeout=300, cwd=tmp)


async def _seal_and_project(settings: Settings, tenant: str, events: int,
                            session: str) -> TenantSealer:
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    await sealer.wait_for(events)
    await sealer.stop()
    rec = AudioRecorder(settings, LocalKeyProvider.from_file(settings.keyring_path),
                        make_s3_client(settings), tenant=tenant)
    try:
        for _ in range(20):
            await rec.poll(sealer.engine)
            if rec.completed:
                break
    finally:
        await rec.close()

    async def transcribed() -> bool:
        async with sealer.engine.connect() as conn:
            return bool((await conn.execute(text(
                "SELECT count(*) FROM transcript_sessions WHERE tenant_id = :t AND "
                "session_id = :s"), {"t": tenant, "s": session})).scalar_one())

    async with running(settings, isolate(make_transcripts(settings), "transcripts", tenant),
                       stop_timeout=30):
        await wait_for(transcribed, 300)
    return sealer


def _export(tenant: str, session: str, out: Path) -> dict[str, object]:
    proc = _vox("evidence", "export", session, "--tenant", tenant, "-o", str(out),
                "--reason", "subpoena 2026-CV-0042", "--json")
    summary: dict[str, object] = json.loads(proc.stdout)
    return summary


def _flip(bundle: Path, member: str, out: Path) -> None:
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == member:
                at = len(data) // 2
                data = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
            dst.writestr(info, data)


@pytest.mark.parametrize("provider", sorted(PROFILES))
async def test_bundle_of_each_provider_verifies_offline(
        settings: Settings, tenant: str, provider: str, fresh_python: Path,
        tmp_path: Path) -> None:
    [sim] = await simulate(settings, provider, 1, 16, tenant)
    sealer = await _seal_and_project(settings, tenant, sim.events, sim.session_id)
    await sealer.close()
    bundle = tmp_path / "bundle.zip"
    summary = _export(tenant, sim.session_id, bundle)
    assert summary["verified"] is True and summary["erased"] is False
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"events.jsonl", "audio/heard.flac", "transcript.json", "transcript.txt",
            "proofs/checkpoint.note", "keys/log.vkey", "custody.json", "verify_bundle.py",
            "certification.md", "audio/segments/index.json"} <= names
    assert manifest["reason"] == "subpoena 2026-CV-0042" and manifest["hold"] is None
    ok = _run_verifier(fresh_python, bundle, tmp_path)
    print(f"\n[{provider}] " + ok.stdout.splitlines()[-1])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED" in ok.stdout
    if provider != "openai":
        return
    segment = sorted(n for n in names if n.endswith(".seg"))[0]
    for member in ("events.jsonl", "audio/heard.flac", segment, "proofs/inclusion.json",
                   "proofs/checkpoint.note", "manifest.json"):
        bad = tmp_path / f"bad-{member.replace('/', '_')}.zip"
        _flip(bundle, member, bad)
        proc = _run_verifier(fresh_python, bad, tmp_path)
        print(f"[flip {member}] {proc.stdout.splitlines()[-1]}")
        assert proc.returncode == 1, proc.stdout
        assert member in proc.stdout.splitlines()[-1], proc.stdout
    same = _vox("evidence", "verify", str(bundle))
    assert "VERIFIED" in same.stdout


async def test_bundle_of_imported_log_and_of_erased_session(
        settings: Settings, tenant: str, session_id: str, fresh_python: Path,
        tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", "import", "--provider", "openai-realtime",
         "--tenant", tenant, "--session", session_id, "--json", "-"],
        input="\n".join(LINES) + "\n", capture_output=True, text=True, cwd=REPO, check=True)
    events = json.loads(proc.stdout)["events"] + 2  # with session.started/ended
    sealer = await _seal_and_project(settings, tenant, events, session_id)
    # A held session's bundle records the hold (matter, who, when), in the manifest and the draft.
    hold = json.loads(_vox("hold", "place", "--tenant", tenant, "--session", session_id,
                           "--matter", "MATTER-77", "--reason", "litigation", "--json").stdout)
    bundle = tmp_path / "imported.zip"
    assert _export(tenant, session_id, bundle)["verified"] is True
    with zipfile.ZipFile(bundle) as zf:
        [recorded] = json.loads(zf.read("manifest.json"))["hold"]["holds"]
        certification = zf.read("certification.md").decode()
    assert (recorded["hold_id"], recorded["matter"]) == (hold["hold_id"], "MATTER-77")
    assert 'matter "MATTER-77"' in certification
    ok = _run_verifier(fresh_python, bundle, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # Erasure (today: the session key destroyed): the bundle says so and holds no plaintext.
    async with sealer.engine.begin() as conn:
        assert await destroy_session_key(conn, tenant, session_id, "erasure request (test)")
    await sealer.close()
    erased = tmp_path / "erased.zip"
    summary = _export(tenant, session_id, erased)
    assert summary["erased"] is True and summary["verified"] is True
    with zipfile.ZipFile(erased) as zf:
        names = set(zf.namelist())
        events_lines = [json.loads(line) for line in
                        io.TextIOWrapper(zf.open("events.jsonl")).read().splitlines()]
        assert json.loads(zf.read("manifest.json"))["erased"] is True
    assert not names & {"keys/session_data_key.json", "audio/heard.flac", "transcript.json",
                        "transcript.txt"}
    assert all(e["envelope"] is None for e in events_lines)
    ok = _run_verifier(fresh_python, erased, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
