"""Every vector in shared/conformance/merkle must behave as its ``wantErr`` says (issue 4).

The folder is resolved from ``VOXLEDGER_CONFORMANCE_DIR`` or beside the repository; a missing
folder fails the run rather than silently collecting nothing.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from services.ledger import merkle
from tests.merkle_vectors import conformance_root


def conformance_dir() -> Path:
    return conformance_root() / "testdata"


def vectors(kind: str) -> list[Path]:
    found = sorted((conformance_dir() / kind).rglob("*.json"))
    if not found:
        raise RuntimeError(f"no {kind} vectors under {conformance_dir()}")
    return found


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(conformance_dir())) for p in paths]


INCLUSION = vectors("inclusion")
CONSISTENCY = vectors("consistency")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def b64(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


def test_suite_is_complete() -> None:
    # The suite as shipped: a shrinking folder must not quietly pass.
    assert len(INCLUSION) == 98
    assert len(CONSISTENCY) == 98
    happy = [p for p in INCLUSION + CONSISTENCY if not load(p)["wantErr"]]
    assert len(happy) >= 10


@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(path: Path) -> None:
    v = load(path)
    args = (v["leafIdx"], v["treeSize"], b64(v["leafHash"]),
            [b64(p) for p in v["proof"] or []], b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(path: Path) -> None:
    v = load(path)
    args = (v["size1"], v["size2"], b64(v["root1"]), b64(v["root2"]),
            [b64(p) for p in v["proof"] or []])
    if v["wantErr"]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)
