"""The restored envelopes of live sessions, kept between rebuilds (pure: no I/O).

A rebuild interprets every frame of its session. Reading them back from the ledger (decrypting
every entry) cost more than interpreting them, again on every rebuild. So the builder keeps, per
session, the envelopes its last rebuild used, adds the frames each later batch brings, and
rebuilds from those; it also keeps the interpreter's state after them (and the facts the
projection reads from the envelopes), so the next rebuild of a live call interprets only the
frames that arrived since (frames arriving in seq order, the normal
case) instead of the whole call again.

Validity. A rebuild from the copy must give what a rebuild from the ledger gives. Every
transaction that adds frames to a copy sets ``transcript_sessions.frames_version`` to a fresh
random value; an entry remembers the version it was made under, and :meth:`FrameCache.take`
hands it out only when the session row, read under its lock, still holds that version. Anything
else gives another version and so a read from the ledger: a batch of ours that rolled back after
its entry was updated (the row is back at the version before it), another instance that wrote the
session, a session erased and created again, rows from before the column (NULL, never trusted).
An entry is out of the cache while a batch works on it, so one that fails half-way is gone.
An entry also remembers the transcript its rebuild last wrote (``written``), so the next rebuild
writes only the rows that changed; every transaction that writes the rows sets a new version too,
so what an entry remembers is what the rows hold whenever the versions match.

Bounds. At most ``max_sessions`` entries and ``max_frames`` envelopes in all, about 1.2 KB each:
the default 250,000 is some 300 MB, about 45 one-minute OpenAI calls at their end (~90 frames a
second). Sessions that do not fit are rebuilt from the ledger, as without the cache. When full,
the entry being put back is dropped rather than another: live sessions come back in turn, and
evicting the least recently used would drop exactly the next one needed, so nothing would stay
cached. A session not touched for ``idle_after`` seconds is evicted by :meth:`evict_idle`; the
builder drops a session once it has ended and been rebuilt.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from schemas.envelope import Envelope
from services.providers.interpret import Progress
from services.transcripts.projection import EnvFacts, Transcript

Key = tuple[str, str]  # (tenant, session)


def _seq(env: Envelope) -> int:
    return env.seq


@dataclass
class Entry:
    """The envelopes of a session's sealed frames (one per seq), by seq, as of ``version``."""

    version: UUID | None
    envs: list[Envelope] = field(default_factory=list)
    seqs: set[int] = field(default_factory=set)
    # The interpretation of a prefix of ``envs``, continued by the next rebuild (see
    # ``interpret_from``); dropped when late frames land inside that prefix.
    progress: Progress | None = None
    facts: EnvFacts | None = None  # the projection's facts of a prefix of ``envs``, likewise
    # The transcript the session's rows hold, as last written under ``version`` (the next
    # rebuild writes only what differs from it); None: not known, everything is written.
    written: Transcript | None = None

    def __post_init__(self) -> None:
        self.seqs.update(e.seq for e in self.envs)

    def add(self, new: Sequence[Envelope], version: UUID) -> None:
        """Take in new frames (seqs this entry does not hold) under ``version``."""
        if not new:
            return
        ordered = sorted(new, key=_seq)
        self.seqs.update(e.seq for e in ordered)
        tail = not self.envs or ordered[0].seq > self.envs[-1].seq
        self.envs.extend(ordered)
        if not tail:  # late frames: two sorted runs, which sort merges in linear time
            self.envs.sort(key=_seq)
            self.progress = None
            self.facts = None
        self.version = version


@dataclass(frozen=True, slots=True)
class _Kept:
    entry: Entry
    touched: float
    frames: int  # as counted when put


class FrameCache:
    def __init__(self, max_sessions: int = 1000, max_frames: int = 250_000,
                 idle_after: float = 120.0) -> None:
        self.max_sessions = max_sessions
        self.max_frames = max_frames
        self.idle_after = idle_after
        self._kept: OrderedDict[Key, _Kept] = OrderedDict()  # least recently put first
        self.frames = 0

    def __len__(self) -> int:
        return len(self._kept)

    def take(self, key: Key, version: UUID | None) -> Entry | None:
        """Remove the session's entry; return it if it was made under ``version``."""
        kept = self._pop(key)
        if kept is None or version is None or kept.entry.version != version:
            return None
        return kept.entry

    def put(self, key: Key, entry: Entry, now: float) -> None:
        """Keep the entry (touched at ``now``), unless it does not fit."""
        self._pop(key)
        frames = len(entry.envs)
        if len(self._kept) >= self.max_sessions or self.frames + frames > self.max_frames:
            return
        self._kept[key] = _Kept(entry, now, frames)
        self.frames += frames

    def evict_idle(self, now: float) -> None:
        while self._kept:
            key, kept = next(iter(self._kept.items()))
            if now - kept.touched <= self.idle_after:
                return
            self._pop(key)

    def _pop(self, key: Key) -> _Kept | None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self.frames -= kept.frames
        return kept
