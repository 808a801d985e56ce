"""Which seqs of a session the catalog has counted, without a row per event.

``seq`` is gapless per session (law 2), so the set of counted seqs is ``0..max_seq`` minus a few
holes (events not seen yet: late, lost or still in flight). Holes are kept as inclusive
``[lo, hi]`` ranges, usually none. A seq is new exactly when it is above ``max_seq`` or inside a
hole, so redelivery and republishing count nothing twice, in any arrival order. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Hole = list[int]  # [lo, hi], inclusive; JSON-friendly


@dataclass
class SeenSeqs:
    max_seq: int = -1
    holes: list[Hole] | None = None

    def add(self, seq: int) -> bool:
        """Record ``seq``; True when it was not counted before."""
        holes = self.holes if self.holes is not None else []
        self.holes = holes
        if seq > self.max_seq:
            if seq > self.max_seq + 1:
                holes.append([self.max_seq + 1, seq - 1])
            self.max_seq = seq
            return True
        for i, (lo, hi) in enumerate(holes):
            if lo <= seq <= hi:
                replacement = ([[lo, seq - 1]] if seq > lo else []) + (
                    [[seq + 1, hi]] if seq < hi else [])
                holes[i:i + 1] = replacement
                return True
        return False

    def add_all(self, seqs: Iterable[int]) -> list[int]:
        """Record every seq; return the ones counted now (in the order given)."""
        return [s for s in seqs if self.add(s)]

    def missing(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.holes or [])
