"""The session renderer: ledger entries in seq order → PCM of the recordings, incrementally (pure).

It walks the session with the providers' public incremental
:class:`~services.providers.interpret.Interpreter`, one envelope at a time, and renders the
timeline up to a *horizon*: ``SETTLE_MS`` behind the newest event. Cuts (truncate, clear,
interruption) nearly always land within a moment of playback, so audio older than the horizon is
settled and can be mixed, encrypted and uploaded while the call runs. Every decision depends
only on the envelopes fed so far, never on how they were batched, so the live consumer and
:mod:`services.audio.rebuild` produce the same samples by construction.

Recordings: ``heard`` is stereo (caller left, agent right, as the caller heard it); ``unheard`` is
mono: agent audio that was generated but never played, laid out on the same timeline (each piece
where it would have played, pushed later when pieces collide). Both end at the session's end.
Audio between ``recording.paused`` and ``recording.resumed`` is silenced in both.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Final

from schemas.envelope import Direction, Provider
from services.audio.mixer import Canvas, Gap, Lane, interleave, to_index
from services.providers.builder import Builder, ChunkState
from services.providers.interpret import Interpreter

SETTLE_MS: Final = 3000.0
# Audio frames flow every 20-100 ms while a call runs, so an event this far past the last one is
# not on the session's timeline (a forged or broken mono_ns): following it would render, in one
# step, silence up to it (a frame a day ahead: ~16 GB of samples). Such an event is left off the
# recording and reported as a gap; the ledger keeps it as received.
MAX_JUMP_MS: Final = 10 * 60 * 1000.0
HEARD: Final = "heard"
UNHEARD: Final = "unheard"
LAYOUT: Final[dict[str, tuple[str, ...]]] = {HEARD: ("caller", "agent"), UNHEARD: ("unheard",)}


@dataclass(frozen=True)
class Event:
    """The envelope fields the interpreters read (payload with its audio put back)."""

    seq: int
    mono_ns: int
    provider: Provider
    direction: Direction
    type: str
    payload: dict[str, Any]


@dataclass
class _Pending:
    chunk: ChunkState
    data: bytes

    @property
    def key(self) -> tuple[float, int]:
        return (self.chunk.start_ms, self.chunk.seq)


@dataclass(frozen=True)
class Rendered:
    heard: bytes = b""
    unheard: bytes = b""


NOTHING: Final = Rendered()  # what most entries release (one instance, not one per entry)


@dataclass
class SessionRenderer:
    rate: int
    settle_ms: float = SETTLE_MS
    builder: Builder = field(default_factory=Builder)
    last_seq: int = -1
    horizon_ms: float = 0.0
    end_ms: float = 0.0
    finished: bool = False
    missing: list[Gap] = field(default_factory=list)
    max_jump_ms: float = MAX_JUMP_MS

    def __post_init__(self) -> None:
        self.canvas = Canvas(("caller", "agent", "unheard"))
        self.lanes = {n: Lane(n, self.rate) for n in ("caller", "agent", "unheard")}
        # Per track, in (start_ms, seq) order; ties keep arrival order (what a stable sort of all
        # pending pieces gave). A chunk's start never changes after the builder made it, only its
        # heard bytes, so a queue stays sorted and each event costs O(log n), not a sort of n.
        self._pending: dict[str, list[_Pending]] = {"caller": [], "agent": []}
        self._seen = 0  # chunks of the builder already picked up
        self._interpreter = Interpreter(self.builder)
        self._paused_at: float | None = None

    # -- interpretation ---------------------------------------------------------------------
    def feed(self, event: Event, audio: list[bytes]) -> Rendered:
        """One envelope (seq order) and its audio fields in document order."""
        now = event.mono_ns / 1e6
        if now > self.end_ms + self.max_jump_ms:
            self.missing.append(Gap("session", self.end_ms, self.end_ms,
                                    f"implausible_timestamp:seq {event.seq}"))
            self.last_seq = max(self.last_seq, event.seq)
            return NOTHING
        if event.seq > self.last_seq + 1:
            self.missing.append(Gap("session", self.end_ms, now,
                                    f"missing_seq:{self.last_seq + 1}-{event.seq - 1}"))
        self.last_seq = max(self.last_seq, event.seq)
        # The same rules and reasons as the transcripts: a bad frame is a FrameError there and
        # here alike (law 9), and the recording carries on.
        self._interpreter.feed(event)
        self._collect(audio)
        self.end_ms = max(self.end_ms, now)
        if event.type == "recording.paused" and self._paused_at is None:
            self._paused_at = now
            self.canvas.mute(to_index(now, self.rate), None)
        elif event.type == "recording.resumed" and self._paused_at is not None:
            self._paused_at = None
            self.canvas.unmute(to_index(now, self.rate))
        self.horizon_ms = max(self.horizon_ms, now - self.settle_ms)
        return self._render(self.horizon_ms)

    def _collect(self, audio: list[bytes]) -> None:
        chunks = self.builder.chunks
        if self._seen == len(chunks):
            return  # no audio counted for this entry (most entries carry one frame)
        new = chunks[self._seen:]
        self._seen = len(chunks)
        unused = list(audio)
        for c in new:
            for data in unused:
                if len(data) == c.byte_length:
                    unused.remove(data)
                    break
            else:
                # The interpreter counted audio the ledger does not hold for this entry: keep
                # the timeline and record the hole rather than invent samples.
                self.missing.append(Gap(c.track, c.start_ms, c.start_ms + c.duration_ms,
                                        "audio_not_in_ledger"))
                data = b""
            queue = self._pending[c.track]
            p = _Pending(c, data)
            last = queue[-1].chunk if queue else None
            if last is None or (last.start_ms, last.seq) <= (c.start_ms, c.seq):
                queue.append(p)  # the usual case: each track's chunks come in timeline order
            else:
                queue.insert(bisect.bisect_right(queue, p.key, key=lambda q: q.key), p)

    # -- rendering ---------------------------------------------------------------------------
    def _ready(self, horizon: float) -> list[_Pending]:
        """Pieces settled by ``horizon``: per track, the prefix ending by then (a later piece of
        a track waits for every earlier one, keeping each lane in timeline order). Tracks feed
        disjoint lanes, so the order between them does not matter."""
        ready: list[_Pending] = []
        for queue in self._pending.values():
            n = 0
            for p in queue:
                if p.chunk.start_ms + p.chunk.duration_ms > horizon:
                    break
                n += 1
            if n:
                ready += queue[:n]
                del queue[:n]
        return ready

    def _place(self, p: _Pending) -> None:
        c, data = p.chunk, p.data
        if c.track == "caller":
            self.lanes["caller"].feed(self.canvas, c.start_ms, c.format, data,
                                      expect_contiguous=True)
            return
        heard = min(c.heard_bytes, len(data))
        heard -= heard % c.format.frame_bytes
        if heard:
            self.lanes["agent"].feed(self.canvas, c.start_ms, c.format, data[:heard], c.turn_id)
        if heard < len(data):
            lane = self.lanes["unheard"]
            at = max(c.start_ms + heard / c.format.bytes_per_ms, lane.end_ms)
            lane.feed(self.canvas, at, c.format, data[heard:], c.turn_id)

    def _render(self, horizon: float, final_index: int | None = None) -> Rendered:
        for p in self._ready(horizon):
            self._place(p)
        if final_index is None:
            for lane in self.lanes.values():
                # No future piece can continue a run that ended this far back (callers resume at
                # their own time after the builder's slack; agents play no earlier than "now").
                if (lane.open and lane.end_ms + CLOSE_AFTER_MS <= horizon
                        and not self._pending[_track(lane.name)]):
                    lane.flush(self.canvas)
            upto = to_index(horizon, self.rate)
            block = self.rate * TAKE_MS // 1000
            if upto - self.canvas.base < block:
                return NOTHING  # too little even before the limits below (they only lower it)
            # to_index is monotonic, so each queue's first piece gives its lowest index.
            queued = [to_index(q[0].chunk.start_ms, self.rate)
                      for q in self._pending.values() if q]
            # Each lane's limit is at most its reach: when the reaches already keep a block
            # back, nothing is released and no lane resamples its held input yet (the same
            # samples come out later; most entries stop here, see Lane.reach).
            reach = [r for lane in self.lanes.values() if (r := lane.reach()) is not None]
            if min([upto, *queued, *reach]) - self.canvas.base < block:
                return NOTHING
            limits = [h for lane in self.lanes.values()
                      if (h := lane.holds_back(self.canvas)) is not None]
            upto = min([upto, *limits, *queued])
        else:
            for lane in self.lanes.values():
                lane.flush(self.canvas)
            upto = final_index
        if upto <= self.canvas.base or (final_index is None
                                        and upto - self.canvas.base < self.rate * TAKE_MS // 1000):
            return NOTHING
        lanes = self.canvas.take(upto)
        return Rendered(interleave([lanes[n] for n in LAYOUT[HEARD]]),
                        interleave([lanes[n] for n in LAYOUT[UNHEARD]]))

    def finish(self) -> Rendered:
        """Everything left, up to the session's end (audio queued past the hang-up is cut)."""
        self.finished = True
        return self._render(float("inf"), to_index(self.end_ms, self.rate))

    def gaps(self) -> list[dict[str, object]]:
        found = [*self.missing, *self.lanes["caller"].gaps, *self.lanes["agent"].gaps]
        return [g.as_dict() for g in sorted(found, key=lambda g: (g.start_ms, g.track))][:1000]


CLOSE_AFTER_MS: Final = 400.0
TAKE_MS: Final = 200  # emit settled audio in blocks: per-event slivers cost more than the audio


def _track(lane: str) -> str:
    return "caller" if lane == "caller" else "agent"
