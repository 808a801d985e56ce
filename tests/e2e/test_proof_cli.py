"""Every Merkle conformance vector through ``voxledger proof``; ``voxledger keys public``.

All vectors run in-process (Typer's CliRunner, same command code); ten of them, and the key
command, run as real ``voxledger`` processes, since one process per vector would take a minute.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from services.ledger import checkpoint as cp
from services.ledger.proof_cli import register
from services.platform.keys import LocalKeyProvider
from services.platform.signing import ensure_identity, load_signer
from tests.merkle_vectors import conformance_root

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def conformance_dir() -> Path:
    return conformance_root() / "testdata"


VECTORS = sorted(conformance_dir().rglob("*.json"))
IDS = [str(p.relative_to(conformance_dir())) for p in VECTORS]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def argv(path: Path) -> list[str]:
    v = load(path)
    proof = [a for node in v["proof"] or [] for a in ("--proof", node)]
    if "leafHash" in v:
        return ["proof", "inclusion", "--leaf-hash", v["leafHash"], "--index", str(v["leafIdx"]),
                "--size", str(v["treeSize"]), "--root", v["root"], *proof]
    return ["proof", "consistency", "--size1", str(v["size1"]), "--size2", str(v["size2"]),
            "--root1", v["root1"], "--root2", v["root2"], *proof]


def check_exit(path: Path, code: int, output: str) -> None:
    if load(path)["wantErr"]:
        # 1 is "invalid"; 2 is input that is not a proof at all (bad base64, wrong hash length).
        assert code in (1, 2), output
    else:
        assert code == 0, output
        assert output.startswith("valid:"), output


def test_suite_is_present() -> None:
    assert len(VECTORS) == 196


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.mark.parametrize("path", VECTORS, ids=IDS)
def test_vector_in_process(cli: typer.Typer, path: Path) -> None:
    result = CliRunner().invoke(cli, argv(path))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    check_exit(path, result.exit_code, result.output)


def _sample() -> list[Path]:
    happy = [p for p in VECTORS if not load(p)["wantErr"]]
    bad = [p for p in VECTORS if load(p)["wantErr"]]
    return happy[::max(1, len(happy) // 5)][:5] + bad[::max(1, len(bad) // 5)][:5]


def voxledger(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=REPO, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, check=False)


@pytest.mark.parametrize("path", _sample(), ids=lambda p: str(p.relative_to(conformance_dir())))
def test_vector_as_a_process(path: Path) -> None:
    proc = voxledger(*argv(path))
    assert "Traceback" not in proc.stderr
    check_exit(path, proc.returncode, proc.stdout + proc.stderr)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--leaf-hash", "not*base64", "--index", "0", "--size", "1", "--root", "AA=="],
     2, "not valid base64"),
    (["--leaf-hash", "AAAA", "--index", "0", "--size", "1", "--root", "AA=="],
     2, "must decode to 32 bytes"),
    (["--leaf-hash", base64.b64encode(bytes(32)).decode(), "--index", "1", "--size", "1",
      "--root", "AA=="], 1, "not below tree size"),
])
def test_bad_input_is_one_clear_line(args: list[str], code: int, message: str) -> None:
    proc = voxledger("proof", "inclusion", *args)
    assert proc.returncode == code
    text = (proc.stdout + proc.stderr).strip()
    assert message in text and "\n" not in text and "Traceback" not in text


def test_keys_public_matches_the_signing_key(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    ensure_identity(keys_dir, lambda: [])
    env = {"VOXLEDGER_SIGNING_DIR": str(keys_dir)}
    plain = voxledger("keys", "public", "--tenant", "acme", env=env)
    assert plain.returncode == 0, plain.stderr
    verifier = cp.Verifier.parse(plain.stdout.strip())
    assert verifier.name == "voxledger.local/acme"

    # A checkpoint signed by the signing identity opens with the printed key only; a key derived
    # from the data keyring (the old scheme) does not.
    signing = load_signer(keys_dir).key
    c = cp.Checkpoint(verifier.name, 3, bytes(32))
    assert cp.open_checkpoint(cp.sign_checkpoint(c, signing), verifier) == c
    keyring = tmp_path / "keyring.json"
    LocalKeyProvider.create_file(keyring)
    other = LocalKeyProvider.from_file(keyring).signing_key("acme")
    with pytest.raises(cp.UnknownSignerError):
        cp.open_checkpoint(cp.sign_checkpoint(c, other), verifier)

    as_json = voxledger("keys", "public", "--tenant", "acme", "--json", env=env)
    data = json.loads(as_json.stdout)
    assert data["vkey"] == plain.stdout.strip()
    assert base64.b64decode(data["public_key"]) == verifier.public_key
    assert data["key_id"] == verifier.key_id.hex() and data["origin"] == verifier.name


def test_keys_public_without_a_signing_identity_is_one_line(tmp_path: Path) -> None:
    proc = voxledger("keys", "public", env={"VOXLEDGER_SIGNING_DIR": str(tmp_path / "none")})
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr
