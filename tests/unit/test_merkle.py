"""Properties of services.ledger.merkle against a literal transcription of RFC 9162 §2.1."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ledger import merkle
from services.ledger.frontier import Frontier
from services.ledger.merkle import MerkleTree

# Hypothesis deadlines are timed assertions; a loaded machine must not fail a proof test.
untimed = settings(deadline=None)


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes, recursive exactly as RFC 9162 §2.1.1 writes it."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 §2.1.3.1."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1."""
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    return [merkle.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


def flip(b: bytes, bit: int) -> bytes:
    bit %= len(b) * 8
    out = bytearray(b)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


sizes = st.integers(min_value=1, max_value=70)


def test_known_hashes() -> None:
    # RFC 6962 test values (also transparency-dev/merkle): empty root and the empty leaf.
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert merkle.root([]) == merkle.EMPTY_ROOT


@untimed
@given(n=st.integers(min_value=0, max_value=130))
def test_root_matches_rfc_recursion(n: int) -> None:
    d = leaves(n)
    want = ref_mth(d)
    assert merkle.root(d) == want
    assert MerkleTree(d).root() == want
    assert Frontier.from_leaf_hashes(d).root() == want


def test_every_prefix_root_agrees() -> None:
    d = leaves(300)
    tree = MerkleTree(d)
    f = Frontier()
    for n in range(301):
        want = ref_mth(d[:n])
        assert f.root() == want == tree.root(n)
        assert f.size == n and len(f.hashes) == n.bit_count()
        if n < 300:
            f.append(d[n])


@untimed
@given(n=sizes, data=st.data())
def test_inclusion_proofs_match_rfc_and_verify(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    tree = MerkleTree(d)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    assert proof == ref_path(index, d[:size])
    merkle.verify_inclusion(index, size, d[index], proof, ref_mth(d[:size]))
    if size == n:
        assert merkle.inclusion_proof(d, index) == proof


@untimed
@given(n=sizes, data=st.data())
def test_consistency_proofs_match_rfc_and_verify(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    tree = MerkleTree(d)
    size2 = data.draw(st.integers(min_value=1, max_value=n), label="size2")
    size1 = data.draw(st.integers(min_value=1, max_value=size2), label="size1")
    proof = tree.consistency_proof(size1, size2)
    assert proof == ref_subproof(size1, d[:size2], True)
    merkle.verify_consistency(size1, size2, ref_mth(d[:size1]), ref_mth(d[:size2]), proof)
    if size2 == n:
        assert merkle.consistency_proof(d, size1) == proof


@untimed
@given(n=sizes, data=st.data())
def test_inclusion_bit_flip_fails(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    proof = merkle.inclusion_proof(d, index)
    leaf, root = d[index], merkle.root(d)
    targets = ["leaf", "root"] + [f"proof{i}" for i in range(len(proof))]
    target = data.draw(st.sampled_from(targets), label="target")
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    if target == "leaf":
        leaf = flip(leaf, bit)
    elif target == "root":
        root = flip(root, bit)
    else:
        i = int(target.removeprefix("proof"))
        proof[i] = flip(proof[i], bit)
    with pytest.raises(merkle.RootMismatchError):
        merkle.verify_inclusion(index, n, leaf, proof, root)


@untimed
@given(n=st.integers(min_value=2, max_value=70), data=st.data())
def test_consistency_bit_flip_fails(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    size1 = data.draw(st.integers(min_value=1, max_value=n - 1), label="size1")
    proof = merkle.consistency_proof(d, size1)
    root1, root2 = merkle.root(d[:size1]), merkle.root(d)
    targets = ["root1", "root2"] + [f"proof{i}" for i in range(len(proof))]
    target = data.draw(st.sampled_from(targets), label="target")
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    if target == "root1":
        root1 = flip(root1, bit)
    elif target == "root2":
        root2 = flip(root2, bit)
    else:
        i = int(target.removeprefix("proof"))
        proof[i] = flip(proof[i], bit)
    with pytest.raises(merkle.RootMismatchError):
        merkle.verify_consistency(size1, n, root1, root2, proof)


@untimed
@given(n=sizes, data=st.data())
def test_inclusion_proof_with_a_node_added_or_removed_fails(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1), label="index")
    proof = merkle.inclusion_proof(d, index)
    root = merkle.root(d)
    with pytest.raises(merkle.MalformedProofError):
        merkle.verify_inclusion(index, n, d[index], [*proof, d[0]], root)
    if proof:
        with pytest.raises(merkle.MalformedProofError):
            merkle.verify_inclusion(index, n, d[index], proof[:-1], root)


def test_a_leaf_from_another_tree_fails() -> None:
    d, other = leaves(9), leaves(9, salt=b"x")
    proof = merkle.inclusion_proof(d, 4)
    with pytest.raises(merkle.RootMismatchError):
        merkle.verify_inclusion(4, 9, other[4], proof, merkle.root(d))


@pytest.mark.parametrize(("index", "size", "leaf", "proof", "match"), [
    (3, 3, b"\x00" * 32, [], "not below"),
    (0, 0, b"\x00" * 32, [], "not below"),
    (0, 1, b"\x00" * 31, [], "31 bytes"),
    (0, 2, b"\x00" * 32, [b"\x00" * 33], r"proof\[0\] is 33 bytes"),
])
def test_malformed_inclusion_inputs(index: int, size: int, leaf: bytes, proof: list[bytes],
                                    match: str) -> None:
    with pytest.raises(merkle.MalformedProofError, match=match):
        merkle.verify_inclusion(index, size, leaf, proof, b"\x00" * 32)


def test_generation_refuses_indexes_outside_the_tree() -> None:
    tree = MerkleTree(leaves(5))
    with pytest.raises(merkle.TreeRangeError):
        tree.inclusion_proof(5)
    with pytest.raises(merkle.TreeRangeError):
        tree.inclusion_proof(0, 6)
    with pytest.raises(merkle.TreeRangeError):
        tree.consistency_proof(0, 5)
    with pytest.raises(merkle.TreeRangeError):
        tree.consistency_proof(4, 3)
    with pytest.raises(merkle.MalformedProofError):
        MerkleTree([b"short"])


@untimed
@given(n=st.integers(min_value=0, max_value=200))
def test_frontier_round_trips(n: int) -> None:
    f = Frontier.from_leaf_hashes(leaves(n))
    blob = f.to_bytes()
    assert len(blob) == 8 + 32 * n.bit_count()
    g = Frontier.from_bytes(blob)
    assert g == f and g.root() == f.root()
    g.append(merkle.leaf_hash(b"next"))
    f2 = f.copy()
    f2.append(merkle.leaf_hash(b"next"))
    assert g.root() == f2.root() == ref_mth([*leaves(n), merkle.leaf_hash(b"next")])
    assert f.size == n  # copies do not share state


@pytest.mark.parametrize("blob", [
    b"",
    b"\x00" * 7,
    (3).to_bytes(8, "big") + b"\x00" * 32,        # size 3 needs two hashes
    (1).to_bytes(8, "big") + b"\x00" * 33,
    (0).to_bytes(8, "big") + b"\x00" * 32,
])
def test_frontier_rejects_bad_blobs(blob: bytes) -> None:
    with pytest.raises(merkle.FrontierError):
        Frontier.from_bytes(blob)


def test_frontier_rejects_bad_leaf() -> None:
    with pytest.raises(merkle.MalformedProofError):
        Frontier().append(b"\x01" * 31)
