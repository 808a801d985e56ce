"""The sealer's running Merkle root: a compact range ``[0, size)`` that persists as bytes.

A tree of ``n`` leaves is fully summarized, for appending and for its root, by the hashes of the
perfect subtrees in the binary decomposition of ``n`` (what transparency-dev calls a compact
range). The sealer keeps one per tenant and stores :meth:`Frontier.to_bytes` next to its progress,
so a restart resumes the root without reading old leaves. Errors are those of
:mod:`services.ledger.merkle` (``FrontierError`` for a bad blob, ``MalformedProofError`` for a
leaf hash of the wrong size).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.ledger.merkle import HASH_SIZE, FrontierError, compact_append, compact_root

_SIZE_BYTES = 8


class Frontier:
    """Compact range ``[0, size)``: one hash per set bit of ``size``, largest subtree first.

    Appending is amortized O(1) hashes; memory stays O(log n).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hs = list(hashes)
        if size < 0 or len(hs) != size.bit_count():
            raise FrontierError(f"a frontier of size {size} holds {max(size, 0).bit_count()} "
                                f"hashes, not {len(hs)}")
        if any(len(h) != HASH_SIZE for h in hs):
            raise FrontierError(f"frontier hashes must be {HASH_SIZE} bytes")
        self._size = size
        self._hashes = hs

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> Frontier:
        f = cls()
        f.extend(leaf_hashes)
        return f

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        self._size = compact_append(self._hashes, self._size, leaf_hash)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for h in leaf_hashes:
            self.append(h)

    def root(self) -> bytes:
        return compact_root(self._hashes)

    def copy(self) -> Frontier:
        return Frontier(self._size, self._hashes)

    def to_bytes(self) -> bytes:
        """``uint64 size (big-endian) || hashes``; the hash count follows from ``size``."""
        return self._size.to_bytes(_SIZE_BYTES, "big") + b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, blob: bytes) -> Frontier:
        if len(blob) < _SIZE_BYTES:
            raise FrontierError(f"frontier blob is shorter than its {_SIZE_BYTES}-byte size")
        size = int.from_bytes(blob[:_SIZE_BYTES], "big")
        body = blob[_SIZE_BYTES:]
        if len(body) != size.bit_count() * HASH_SIZE:
            raise FrontierError(f"frontier blob for size {size} must carry "
                                f"{size.bit_count()} hashes, has {len(body)} bytes")
        return cls(size, [body[i:i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)])

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Frontier) and other._size == self._size
                and other._hashes == self._hashes)

    def __hash__(self) -> int:
        return hash((self._size, *self._hashes))

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()[:16]}...)"
