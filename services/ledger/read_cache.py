"""One decode of the sealed ledger per process, shared by the projections that follow it.

``voxledger run`` groups consumers into processes (``services/runner/supervisor.py``: the
catalog, the transcript builder and the redaction worker share one, one event loop and one GIL;
the sealer and the audio recorder have their own). The catalog and the transcript builder follow
the same tenants' ledgers, woken by the same notification, a
few milliseconds apart, and each used to read and decode every entry itself: decrypt, decompress
and parse the payload cost more than either projection's own work on most entries (audio
frames). :class:`SharedReads` keeps, per tenant, the decoded entries of the positions read last
(a contiguous run ``[lo, hi)``), so the first projection to read a range pays for it and the
others are served from memory; the system-only projections (audio, redaction) take their few
events from the same run when it covers their range.

What it keeps and for how long. Entries are decoded as for ``audio="lengths"`` (a projection that
asked for ``"none"`` gets the parsed payload too, which it does not read). A run holds at most
``window`` entries (the oldest dropped first) and is dropped whole once ``ttl_s`` passed without
a read extending it, so decrypted content of a session lives here seconds, not for the life of
the process. All runs together hold at most ``max_entries`` (the least recently extended runs
are dropped first), so memory stays bounded however many tenants are live.

Erasure: every read still locks the served sessions' keys ``FOR KEY SHARE`` in the
caller's transaction (``LedgerReader.read``) and drops the events of a session whose key is gone,
and :meth:`SharedReads.forget` removes that session's entries from the run at once.

Only the event loop thread touches it (decoding runs in threads, the cache is updated after).
A follower that is far behind (a rebuild, a catch-up) reads below the run and does not enter it,
so it never evicts what the live projections share.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.ledger.reader import SealedEvent


@dataclass
class _Run:
    lo: int  # every entry of the tenant in [lo, hi) is accounted for
    hi: int
    used: float  # monotonic time the run was last extended
    events: list[SealedEvent] = field(default_factory=list)  # by position; reserved ones omitted
    positions: list[int] = field(default_factory=list)
    # What a projection asking for audio="none" gets instead, where that differs: an audio frame
    # whose payload decrypts but does not parse is dead-lettered in the other modes only.
    unparsed: dict[int, SealedEvent] = field(default_factory=dict)


class SharedReads:
    def __init__(self, window: int = 10_000, ttl_s: float = 10.0, max_tenants: int = 256,
                 max_entries: int = 100_000) -> None:
        self.window, self.ttl_s, self.max_tenants = window, ttl_s, max_tenants
        self.max_entries = max_entries
        self._total = 0  # entries kept in every run
        self._runs: dict[str, _Run] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.hits = 0  # entries served from a run
        self.misses = 0  # entries decoded for a run

    def lock(self, tenant: str) -> asyncio.Lock:
        """Held while a range of ``tenant`` is looked up and read, so two projections reading
        the same range decode it once (the second finds it in the run)."""
        lock = self._locks.get(tenant)
        if lock is None:
            lock = self._locks[tenant] = asyncio.Lock()
        return lock

    def get(self, tenant: str, after: int, head: int, limit: int, *, unparsed: bool = False
            ) -> tuple[list[SealedEvent], int] | None:
        """The run's events from ``after`` below ``head`` (at most ``limit``) and the position
        they cover up to; None when the run does not cover ``after``."""
        self.expire()
        run = self._runs.get(tenant)
        if run is None or not run.lo <= after < run.hi:
            return None
        i = bisect.bisect_left(run.positions, after)
        j = bisect.bisect_left(run.positions, head, i)
        j = min(j, i + limit)
        events = run.events[i:j]
        # Cut at the limit: up to the first entry left out; else all of the run below head.
        cut = j < len(run.events) and len(events) == limit
        upto = min(run.positions[j] if cut else run.hi, head)
        if unparsed and run.unparsed:
            events = [run.unparsed.get(e.position, e) for e in events]
        self.hits += len(events)
        return events, upto

    def put(self, tenant: str, after: int, upto: int, events: list[SealedEvent],
            unparsed: dict[int, SealedEvent] | None = None) -> None:
        """Entries of ``tenant`` covering ``[after, upto)``, read and decoded just now: they
        extend the run when they continue it, start a new one when they are ahead of it, and
        are left out when they are behind it (a follower catching up)."""
        if upto <= after:
            return
        run = self._runs.get(tenant)
        now = time.monotonic()
        if run is not None and after < run.hi:
            if after < run.lo or upto <= run.hi:
                return
            # Overlaps the run's end: keep what is new.
            cut = bisect.bisect_left([e.position for e in events], run.hi)
            events, after = events[cut:], run.hi
        if run is None or after > run.hi:
            if run is None and len(self._runs) >= self.max_tenants:
                self._drop(min(self._runs, key=lambda t: self._runs[t].used))
            if run is not None:
                self._total -= len(run.events)
            run = self._runs[tenant] = _Run(after, after, now)
        run.events.extend(events)
        run.positions.extend(e.position for e in events)
        if unparsed:
            run.unparsed.update(unparsed)
        run.hi, run.used = upto, now
        self.misses += len(events)
        self._total += len(events)
        extra = len(run.events) - self.window
        if extra > 0:
            self._trim(run, extra)
        while self._total > self.max_entries:
            others = [t for t in self._runs if t != tenant]
            if not others:
                self._trim(run, self._total - self.max_entries)
                break
            self._drop(min(others, key=lambda t: self._runs[t].used))

    def _trim(self, run: _Run, extra: int) -> None:
        """Drop the run's oldest ``extra`` entries."""
        for e in run.events[:extra]:
            run.unparsed.pop(e.position, None)
        self._total -= len(run.events[:extra])
        del run.events[:extra], run.positions[:extra]
        run.lo = run.positions[0] if run.positions else run.hi

    def _drop(self, tenant: str) -> None:
        run = self._runs.pop(tenant, None)
        if run is not None:
            self._total -= len(run.events)

    def forget(self, tenant: str, sessions: Iterable[str]) -> None:
        """Drop every kept entry of ``sessions`` (their key is destroyed)."""
        run = self._runs.get(tenant)
        gone = set(sessions)
        if run is None or not gone or not any(e.session in gone for e in run.events):
            return
        kept = [e for e in run.events if e.session not in gone]
        self._total -= len(run.events) - len(kept)
        run.events, run.positions = kept, [e.position for e in kept]
        run.unparsed = {p: e for p, e in run.unparsed.items() if e.session not in gone}

    def expire(self, now: float | None = None) -> None:
        """Drop the runs no read has extended for ``ttl_s``."""
        now = time.monotonic() if now is None else now
        for tenant in [t for t, r in self._runs.items() if now - r.used > self.ttl_s]:
            self._drop(tenant)

    def __len__(self) -> int:
        return self._total
