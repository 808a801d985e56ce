"""CPU per event of the ledger projections (catalog, transcripts, audio), as if live (a measurement).

    .venv/bin/python bench/projection_cpu.py seal [--sessions 6] [--duration 60]
    .venv/bin/python bench/projection_cpu.py measure --tenant T [--window 0.25] [--profile]

``seal`` publishes the benchmark's own load (``services.bench.load``: OpenAI GA, 24 kHz PCM16 in
20 ms frames both ways, concurrent sessions) at full speed to a fresh tenant, seals it with an
in-process partition sealer and prints the tenant. ``measure`` then runs each projection's
:class:`~services.ledger.follower.Follower` over that ledger as if it were live: the ledger's
head is uncovered ``--window`` seconds of call time at a time (the events the sessions had sent
by then, the sessions still open until their ``session.ended`` is uncovered), one round of
batches plus ``maintain`` per window, and the transcripts' rebuild clock advances with the call
time. CPU = ``time.process_time`` of this process (every thread) over the events the ledger
holds; not the Postgres server's. Each projection's rows of the tenant are deleted first, so
every run does the same work. ``--profile``: cProfile of each projection, with thread-pool work
run inline so that it is profiled too.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import secrets
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select, text

import services.audio.consumer as audio_consumer
import services.audio.source as audio_source
import services.ledger.follower as follower_mod
import services.ledger.reader as reader_mod
import services.transcripts.consumer as transcripts_consumer
from services.bench.load import run_load
from services.ledger.catalog import SessionCatalog
from services.ledger.follower import Projection
from services.ledger.models import LedgerEntry as E
from services.ledger.read_cache import SharedReads
from services.ledger.reader import AudioMode, LedgerReader, SealedEvent, lock_keys
from services.platform.db import make_async_engine
from services.platform.settings import load_settings
from services.runner.main import make_follower
from services.transcripts.consumer import make_transcripts
from tests.integration.ledger_helpers import TenantSealer


async def seal(sessions: int, duration: float) -> None:
    settings = load_settings()
    tenant = "t-pcpu-" + secrets.token_hex(4)
    result = await run_load(settings, tenant, sessions, duration, realtime=False)
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(result["events"], timeout=1800)
    finally:
        await sealer.stop()
        await sealer.close()
    print(f"sealed {result['events']} events of {sessions} sessions x {duration:.0f} s "
          f"into tenant {tenant}")


class Clock:
    """The call time uncovered so far (the transcripts' rebuild windows run on it)."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now


class Live:
    """The ledger as a live follower sees it: entries below position ``cap``."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows  # (position, session, seq, mono_ns, ends) in position order
        self.ends = {r.session_id: r.position for r in rows if r.ends}
        self.reset()

    def reset(self) -> None:
        self.cap = 0
        self.seen: dict[str, tuple[int, bool]] = {}  # session -> (max seq, end uncovered)

    def advance(self, events: int) -> None:
        upto = min(len(self.rows), self.cap + events)
        for r in self.rows[self.cap:upto]:
            seq = max(self.seen.get(r.session_id, (-1, False))[0], r.seq)
            self.seen[r.session_id] = (seq, self.seen.get(r.session_id, (0, False))[1])
        self.cap = upto
        for session, (seq, _) in self.seen.items():
            self.seen[session] = (seq, self.ends.get(session, 1 << 62) < upto)


def patch(live: Live, clock: Clock) -> None:
    real_behind = follower_mod.behind

    async def behind(conn: Any, projection: str, tenant: str | None = None
                     ) -> list[tuple[str, int, int]]:
        return [(t, min(h, live.cap), p) for t, h, p in await real_behind(conn, projection, tenant)
                if p < min(h, live.cap)]

    follower_mod.behind = behind  # type: ignore[assignment]
    transcripts_consumer.time = clock  # type: ignore[assignment]

    real_open = audio_consumer.store.open_sessions

    async def entries_after(conn: Any, tenant: str, session: str, after_seq: int,
                            limit: int) -> Any:
        return (await conn.execute(
            select(E.seq, E.position, E.event_id, E.mono_ns, E.provider, E.direction, E.type,
                   E.payload_ct)
            .where(E.tenant_id == tenant, E.session_id == session, E.seq > after_seq,
                   E.position < live.cap)
            .order_by(E.seq, E.position).limit(limit))).all()

    async def open_sessions(conn: Any, tenant: str | None) -> list[Any]:
        seen = live.seen
        out = []
        for r in await real_open(conn, tenant):
            if r.session_id in seen:
                max_seq, ended = seen[r.session_id]
                out.append(SimpleNamespace(tenant_id=r.tenant_id, session_id=r.session_id,
                                           max_seq=max_seq, ended=ended, timed_out_at=None))
        return out

    # A session read again (the transcripts' frame cache missing) sees what is sealed by now.
    async def session_events(self: LedgerReader, conn: Any, tenant: str, session: str, *,
                             audio: AudioMode = "lengths") -> list[SealedEvent] | None:
        wrapped = (await lock_keys(conn, tenant, [session])).get(session)
        if wrapped is None:
            return None
        rows = (await conn.execute(select(*reader_mod._COLS).where(
            E.tenant_id == tenant, E.session_id == session, E.position < live.cap)
            .order_by(E.position))).all()
        return await asyncio.to_thread(self._decode_all, tenant, rows, {session: wrapped}, audio)

    LedgerReader.session_events = session_events  # type: ignore[method-assign]
    async def entries_after_many(conn: Any, after: dict[tuple[str, str], int], limit: int
                                 ) -> dict[tuple[str, str], list[Any]]:
        out: dict[tuple[str, str], list[Any]] = {k: [] for k in after}
        rows = await conn.execute(text(audio_source._AFTER_MANY.text.replace(
            "AND e.seq > k.after_seq", "AND e.seq > k.after_seq AND e.position < :cap")), {
            "tenants": [k[0] for k in after], "sessions": [k[1] for k in after],
            "afters": list(after.values()), "limit": limit, "cap": live.cap})
        for row in rows:
            out[(row.tenant_id, row.session_id)].append(row)
        return out

    if hasattr(audio_consumer, "entries_after_many"):
        audio_consumer.entries_after_many = entries_after_many  # type: ignore[assignment]
    audio_consumer.entries_after = entries_after  # type: ignore[assignment]
    audio_consumer.store.open_sessions = open_sessions  # type: ignore[assignment]


async def reset(engine: Any, tenant: str, name: str) -> None:
    tables = {"catalog": ["sessions"],
              "transcripts": ["transcript_turns", "tool_calls", "transcript_sessions"],
              "audio": ["audio_recordings"]}[name.split("-")[0]]
    async with engine.begin() as conn:
        for table in tables:
            await conn.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"), {"t": tenant})
        await conn.execute(text("DELETE FROM projection_positions WHERE tenant_id = :t "
                                "AND projection = :p"), {"t": tenant, "p": name})


async def run_many(settings: Any, engine: Any, projections: list[Projection], live: Live,
                   clock: Clock, window_events: int, window_s: float, shared: SharedReads | None
                   ) -> list[tuple[int, float]]:
    """Every projection's follower over the same live windows, one after another in each window
    (as their tasks take turns in one process); (events applied, CPU s) per projection."""
    followers = [make_follower(settings, engine, p, shared) for p in projections]
    cpu = [0.0] * len(projections)
    live.reset()
    clock.now = 1000.0
    while live.cap < len(live.rows):
        live.advance(window_events)
        clock.now += window_s
        for k, (p, f) in enumerate(zip(projections, followers, strict=True)):
            t0 = time.process_time()
            while await f.round() and f._more:
                pass
            await p.maintain(engine)
            cpu[k] += time.process_time() - t0
    clock.now += 3600
    for k, p in enumerate(projections):
        t0 = time.process_time()
        await p.maintain(engine)
        cpu[k] += time.process_time() - t0
        await p.close()
    return [(f.stats.delivered, c) for f, c in zip(followers, cpu, strict=True)]


def make(name: str, settings: Any, tenant: str) -> Projection:
    if name == "catalog":
        return SessionCatalog(tenant=tenant)
    if name == "transcripts":
        return make_transcripts(settings, tenant=tenant)
    from services.audio.consumer import AudioRecorder
    from services.platform.keys import key_provider
    from services.platform.s3 import make_s3_client

    return AudioRecorder(settings, key_provider(settings), make_s3_client(settings), tenant=tenant)


async def ledger_rows(engine: Any, tenant: str) -> list[Any]:
    """The tenant's entries in ledger order: position, session, seq, clock and whether it ends
    its session (what the harnesses uncover as if sealed live)."""
    async with engine.connect() as conn:
        return list((await conn.execute(text(
            "SELECT position, session_id, seq, mono_ns, (direction = 'system' AND "
            "type = 'session.ended') AS ends FROM ledger_entries WHERE tenant_id = :t "
            "ORDER BY position"), {"t": tenant})).all())


async def measure(tenant: str, window_s: float, names: list[str], profile: bool,
                  repeat: int, together: bool) -> None:
    settings = load_settings()
    engine = make_async_engine(settings)
    rows = await ledger_rows(engine, tenant)
    duration_s = max(r.mono_ns for r in rows) / 1e9
    window_events = max(1, round(len(rows) * window_s / duration_s))
    live, clock = Live(rows), Clock()
    patch(live, clock)
    if profile:
        async def inline(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        asyncio.to_thread = inline  # type: ignore[assignment]
    print(f"tenant {tenant}: {len(rows)} entries over {duration_s:.0f} s of calls; "
          f"window {window_s} s = {window_events} entries")
    groups = [names] if together else [[n] for n in names]
    try:
        for group in groups:
            for _ in range(repeat):
                projections = [make(name, settings, tenant) for name in group]
                for p in projections:
                    await reset(engine, tenant, p.name)
                shared = SharedReads() if together and len(group) > 1 else None
                prof = cProfile.Profile(time.process_time) if profile else None
                if prof is not None:
                    prof.enable()
                wall0 = time.monotonic()
                results = await run_many(settings, engine, projections, live, clock,
                                         window_events, window_s, shared)
                wall = time.monotonic() - wall0
                if prof is not None:
                    prof.disable()
                for name, (delivered, cpu) in zip(group, results, strict=True):
                    print(f"{name}: {cpu / len(rows) * 1000:.3f} ms CPU/entry "
                          f"({delivered} applied by the follower, {cpu:.2f} s CPU)", flush=True)
                total = sum(c for _, c in results)
                print(f"  {'+'.join(group)}: {total / len(rows) * 1000:.3f} ms CPU/entry, "
                      f"{wall:.1f} s wall" + (f"; shared reads: {shared.hits} served, "
                                              f"{shared.misses} decoded" if shared else ""))
                if prof is not None:
                    prof.dump_stats(f"/tmp/projection_cpu-{'+'.join(group)}.prof")
                    out = io.StringIO()
                    stats = pstats.Stats(prof, stream=out)
                    stats.sort_stats("tottime").print_stats(30)
                    stats.sort_stats("cumulative").print_stats(45)
                    print(out.getvalue())
    finally:
        await engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seal")
    s.add_argument("--sessions", type=int, default=6)
    s.add_argument("--duration", type=float, default=60)
    m = sub.add_parser("measure")
    m.add_argument("--tenant", required=True)
    m.add_argument("--window", type=float, default=0.25)
    m.add_argument("--projections", default="catalog,transcripts,audio")
    m.add_argument("--profile", action="store_true")
    m.add_argument("--repeat", type=int, default=1)
    m.add_argument("--together", action="store_true",
                   help="the projections in one process, sharing their reads (voxledger run)")
    a = ap.parse_args()
    if a.cmd == "seal":
        asyncio.run(seal(a.sessions, a.duration))
    else:
        asyncio.run(measure(a.tenant, a.window, a.projections.split(","), a.profile, a.repeat,
                              a.together))


if __name__ == "__main__":
    main()
