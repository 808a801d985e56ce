"""The witness's add-checkpoint rules (C2SP tlog-witness) and cosignature/policy (in memory)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.evidence.witness import Witness, init_state
from services.ledger.checkpoint import Checkpoint, Verifier, parse_note, sign_checkpoint
from services.ledger.cosignature import PolicyError, cosigners, parse_policy
from services.ledger.merkle import MerkleTree, leaf_hash
from services.ledger.witnessing import request_body

ORIGIN = "voxledger.local/acme"
LEAVES = [leaf_hash(bytes([i])) for i in range(20)]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Witness, Ed25519PrivateKey]:
    log_key = Ed25519PrivateKey.generate()
    state = tmp_path / "w"
    init_state(state, "witness.test/w1")
    (state / "logs.txt").write_text(Verifier.from_public_key(ORIGIN, log_key).vkey() + "\n")
    return Witness(state), log_key


def _note(key: Ed25519PrivateKey, size: int, leaves: list[bytes] = LEAVES) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, MerkleTree(leaves[:size]).root()), key)


def test_cosigns_only_consistent_history(setup: tuple[Witness, Ed25519PrivateKey]) -> None:
    w, key = setup
    first = w.add_checkpoint(request_body(0, [], _note(key, 5)))
    assert first.status == 200 and first.body.startswith("\u2014 witness.test/w1 ".encode())
    cosigned = parse_note(_note(key, 5) + first.body.decode())
    assert set(cosigners(cosigned, {"w1": w.public})) == {"w1"}
    stale = w.add_checkpoint(request_body(0, [], _note(key, 9)))
    assert (stale.status, stale.body, stale.content_type) == (409, b"5\n", "text/x.tlog.size")
    proof = MerkleTree(LEAVES).consistency_proof(5, 9)
    assert w.add_checkpoint(request_body(5, proof, _note(key, 9))).status == 200
    # A rewritten history signed with the real log key: the proof cannot lead to its root.
    forked = [*LEAVES[:3], leaf_hash(b"forged"), *LEAVES[4:]]
    bad = MerkleTree(forked).consistency_proof(9, 12)
    assert w.add_checkpoint(request_body(9, bad, _note(key, 12, forked))).status == 422
    same_size = w.add_checkpoint(request_body(9, [], _note(key, 9, forked)))
    assert same_size.status == 409
    # A checkpoint signed by another key, an unknown origin, a malformed body.
    other = Ed25519PrivateKey.generate()
    assert w.add_checkpoint(request_body(9, [], _note(other, 9))).status == 403
    unknown = sign_checkpoint(Checkpoint("voxledger.local/else", 1, bytes(32)), key)
    assert w.add_checkpoint(request_body(0, [], unknown)).status == 404
    assert w.add_checkpoint(b"old x\n\n" + _note(key, 9).encode()).status == 400
    assert w.add_checkpoint(request_body(10, [], _note(key, 9))).status == 400
    assert w.add_checkpoint(b"x" * 70_000).status == 413
    # State survives a restart: the witness never goes back.
    again = Witness(w.state)
    assert again.add_checkpoint(request_body(0, [], _note(key, 9))).body == b"9\n"


def test_policy_quorum_and_errors() -> None:
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    from services.ledger.cosignature import WitnessKey

    vk = [WitnessKey.from_public_key(f"w{i}.test", k).vkey() for i, k in enumerate(keys)]
    log = Verifier.from_public_key(ORIGIN, Ed25519PrivateKey.generate()).vkey()
    policy = parse_policy(f"# comment\nlog {log}\nwitness a {vk[0]}\nwitness b {vk[1]}\n"
                          f"witness c {vk[2]}\ngroup two 2 a b c\nquorum two\n")
    assert policy.satisfied({"a", "c"}) and not policy.satisfied({"b"})
    assert parse_policy("quorum none\n").satisfied(set())
    for bad in ("", f"witness a {vk[0]}\nwitness b {vk[0]}\nquorum a\n",
                "group g 1 nobody\nquorum g\n", f"witness a {vk[0]}\ngroup g 2 a\nquorum g\n",
                "quorum none\nquorum none\n", f"log {vk[0]}\nquorum none\n"):
        with pytest.raises(PolicyError):
            parse_policy(bad)
    assert base64.b64decode(vk[0].split("+", 2)[2])[0] == 0x04
