"""The bulk leaf path equals leaf.leaf_data, and the bundle's standalone verifier agrees with the
shared Merkle conformance vectors (it carries its own copy of the RFC 9162 checks)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.evidence import verify_bundle
from services.ledger.fastleaf import js, leaf_hash_of
from services.ledger.leaf import LeafFields, canonical_time, leaf_data
from services.ledger.merkle import leaf_hash
from tests.merkle_vectors import conformance_root

CASES = [
    ("acme", 0, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "s-1", 0, 1, "openai-realtime", "client",
     "input_audio_buffer.append", datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), 0),
    ("t-x", 2**40, "weird\"id\\", "sess_ü", 7, 2, "custom", "server", "type with \u2014 dash",
     datetime(2026, 6, 1, 23, 59, 59, tzinfo=timezone(timedelta(hours=-7))), 2**62),
]


@pytest.mark.parametrize("case", CASES)
def test_fast_leaf_is_byte_identical(case: tuple[object, ...]) -> None:
    tenant, pos, eid, sess, seq, sv, prov, direction, typ, when, mono = case
    payload, audio = bytes(range(32)), bytes(32)
    want = leaf_hash(leaf_data(LeafFields(tenant, pos, eid, sess, seq, sv, prov, direction, typ,
                                          when, mono, payload, audio)))  # type: ignore[arg-type]
    got = leaf_hash_of(js(str(tenant)), pos, eid, sess, seq, sv, prov, direction, typ,  # type: ignore[arg-type]
                       canonical_time(when), mono, payload, audio)  # type: ignore[arg-type]
    assert got == want


def _vectors(kind: str) -> list[Path]:
    return sorted((conformance_root() / "testdata" / kind).rglob("*.json"))


def _b(s: str) -> bytes:
    return base64.b64decode(s)


def test_standalone_verifier_passes_the_conformance_vectors() -> None:
    inc, con = _vectors("inclusion"), _vectors("consistency")
    assert len(inc) == 98 and len(con) == 98
    for path in inc:
        v = json.loads(path.read_text())
        try:
            ok = verify_bundle.root_from_inclusion(
                v["leafIdx"], v["treeSize"], _b(v["leafHash"]),
                [_b(p) for p in v["proof"] or []]) == _b(v["root"])
        except ValueError:
            ok = False
        assert ok is not v["wantErr"], path
    for path in con:
        v = json.loads(path.read_text())
        try:
            verify_bundle.verify_consistency(v["size1"], v["size2"], _b(v["root1"]),
                                             _b(v["root2"]), [_b(p) for p in v["proof"] or []])
            ok = True
        except ValueError:
            ok = False
        assert ok is not v["wantErr"], path
