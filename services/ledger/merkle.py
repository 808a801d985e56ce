"""RFC 9162 §2.1 Merkle tree: hashes, roots, inclusion and consistency proofs, compact ranges.

Pure functions over 32-byte SHA-256 leaf hashes; no I/O. The tree is the left-balanced binary tree
of RFC 9162 §2.1.1 (identical to RFC 6962 §2.1): ``MTH({}) = SHA-256()``,
``MTH({d}) = SHA-256(0x00 || d)``, ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``
with ``k`` the largest power of two smaller than ``n``.

Errors::

    MerkleError                 anything this module refuses
    ├── TreeRangeError          a proof was asked for an index or size the tree does not have
    ├── FrontierError           a serialized compact range (frontier.py) is malformed
    └── ProofError              a proof does not verify
        ├── MalformedProofError the inputs cannot describe a valid proof (hash not 32 bytes,
        │                       index >= size, size1 > size2, size1 == 0, wrong node count)
        └── RootMismatchError   well formed, but the computed root is not the claimed one
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class MerkleError(Exception):
    """Base of every error raised by this module."""


class TreeRangeError(MerkleError, ValueError):
    """A proof was requested for an index or tree size outside the tree."""


class FrontierError(MerkleError, ValueError):
    """A serialized compact range cannot be decoded."""


class ProofError(MerkleError):
    """A proof does not verify."""


class MalformedProofError(ProofError):
    """The inputs cannot describe a valid proof."""


class RootMismatchError(ProofError):
    """The proof is well formed but leads to a different root than the one claimed."""


def leaf_hash(data: bytes) -> bytes:
    # The 0x00/0x01 domain separation (RFC 9162 §2.1.1) stops a node from posing as a leaf.
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n > 1), RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def compact_append(subtrees: list[bytes], size: int, leaf: bytes) -> int:
    """Append ``leaf`` to the compact range ``[0, size)`` held in ``subtrees``; the new size.

    ``subtrees`` holds one perfect subtree hash per set bit of ``size``, largest first. Each
    trailing 1 bit of the old size is a perfect subtree that the new leaf completes.
    """
    if len(leaf) != HASH_SIZE:
        raise MalformedProofError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
    h, n = leaf, size
    while n & 1:
        h = node_hash(subtrees.pop(), h)
        n >>= 1
    subtrees.append(h)
    return size + 1


def compact_root(subtrees: Sequence[bytes]) -> bytes:
    """Root of a tree given the perfect subtrees of its size's binary decomposition, left first."""
    if not subtrees:
        return EMPTY_ROOT
    acc = subtrees[-1]
    for h in reversed(subtrees[:-1]):
        acc = node_hash(h, acc)
    return acc


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over the given leaf hashes (RFC 9162 §2.1.1), in O(log n) memory."""
    subtrees: list[bytes] = []
    size = 0
    for h in leaf_hashes:
        size = compact_append(subtrees, size, h)
    return compact_root(subtrees)


class MerkleTree:
    """Every perfect aligned subtree of a list of leaf hashes, for O(log² n) proofs.

    Level ``k`` is one contiguous ``bytes`` of the hashes of ``[i·2^k, (i+1)·2^k)``; about 64 bytes
    per leaf in all, so 10^6 leaves cost ~64 MB and one pass of hashing to build.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        if any(len(h) != HASH_SIZE for h in leaf_hashes):
            raise MalformedProofError(f"leaf hashes must be {HASH_SIZE} bytes")
        self.size = len(leaf_hashes)
        level = b"".join(leaf_hashes)
        self._levels = [level]
        while len(level) >= 2 * HASH_SIZE:
            pairs = len(level) // (2 * HASH_SIZE)
            level = b"".join(
                hashlib.sha256(_NODE_PREFIX + level[i * 64:(i + 1) * 64]).digest()
                for i in range(pairs))
            self._levels.append(level)

    def _perfect(self, height: int, index: int) -> bytes:
        off = index * HASH_SIZE
        return self._levels[height][off:off + HASH_SIZE]

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC recursion produces (start aligned to its size)."""
        subtrees: list[bytes] = []
        pos, n = start, end - start
        for height in range(n.bit_length() - 1, -1, -1):
            if n >> height & 1:
                subtrees.append(self._perfect(height, pos >> height))
                pos += 1 << height
        return compact_root(subtrees)

    def root(self, size: int | None = None) -> bytes:
        return self._range(0, self._check_size(size))

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise TreeRangeError(f"leaf {index} is outside a tree of {self.size}")
        return self._perfect(0, index)

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise TreeRangeError(f"tree size {size} is outside 0..{self.size}")
        return size

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[n]) of RFC 9162 §2.1.3.1, leaf-side sibling first."""
        n = self._check_size(size)
        if not 0 <= index < n:
            raise TreeRangeError(f"leaf index {index} is not below tree size {n}")
        path: list[bytes] = []
        start, end, m = 0, n, index
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                path.append(self._range(start + k, end))
                end = start + k
            else:
                path.append(self._range(start, start + k))
                start, m = start + k, m - k
        path.reverse()
        return path

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1, for 0 < m <= n."""
        n = self._check_size(size2)
        if not 0 < size1 <= n:
            raise TreeRangeError(f"consistency needs 0 < size1 <= size2, got {size1}, {n}")
        proof: list[bytes] = []
        start, end, m, whole = 0, n, size1, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:
            # SUBPROOF(m, D[m], false) = {MTH(D[m])}: the old tree's last subtree, which the
            # verifier cannot know from root1 alone.
            proof.append(self._range(start, end))
        proof.reverse()
        return proof


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Inclusion proof of ``leaf_hashes[index]`` in the tree of all ``leaf_hashes``."""
    return MerkleTree(leaf_hashes).inclusion_proof(index)


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """Consistency proof from the first ``size1`` leaves to all of ``leaf_hashes``."""
    return MerkleTree(leaf_hashes).consistency_proof(size1)


def _check_hashes(what: str, hashes: Iterable[bytes]) -> None:
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise MalformedProofError(f"{what}[{i}] is {len(h)} bytes, not {HASH_SIZE}")


def _match(computed: bytes, claimed: bytes, what: str) -> None:
    if computed != claimed:
        raise RootMismatchError(f"computed {what} {computed.hex()} does not match the claimed "
                                f"{claimed.hex() or '(empty)'}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes,
                              proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1-4: the root that ``proof`` implies for ``leaf`` at ``index``."""
    if not 0 <= index < size:
        raise MalformedProofError(f"leaf index {index} is not below tree size {size}")
    if len(leaf) != HASH_SIZE:
        raise MalformedProofError(f"leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    _check_hashes("proof", proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise MalformedProofError(f"proof has more than the nodes index {index} of size "
                                      f"{size} calls for")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right border the tree skips levels: climb until we are a right child again.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5: sn must have reached 0, otherwise the proof stopped short of the root.
    if sn != 0:
        raise MalformedProofError(f"proof has fewer nodes ({len(proof)}) than index {index} of "
                                  f"size {size} calls for")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root_hash: bytes) -> None:
    """Raise :class:`ProofError` unless ``proof`` puts ``leaf`` at ``index`` under ``root_hash``."""
    _match(root_from_inclusion_proof(index, size, leaf, proof), root_hash, "root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raise :class:`ProofError` unless tree (size1, root1) is a prefix of (size2, root2).

    RFC 9162 §2.1.4.2, plus the edges of the conformance suite: size1 == 0 is refused (the RFC
    defines proofs only for 0 < first; an empty tree is trivially a prefix and needs no proof),
    and size1 == size2 needs an empty proof and equal roots.
    """
    if size1 > size2:
        raise MalformedProofError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        raise MalformedProofError("a consistency proof from an empty tree is meaningless")
    _check_hashes("proof", proof)
    if size1 == size2:
        if proof:
            raise MalformedProofError("sizes are equal, so the proof must be empty")
        _match(root1, root2, "root1")
        return
    if not proof:
        raise MalformedProofError("sizes differ, so the proof must not be empty")  # step 1
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)  # step 2: the old tree is a complete subtree of the new one
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise MalformedProofError("proof has more nodes than the sizes call for")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise MalformedProofError("proof has fewer nodes than the sizes call for")
    _match(fr, root1, "root1")
    _match(sr, root2, "root2")
