"""The benchmark's load: N concurrent OpenAI Realtime GA sessions, 24 kHz PCM16 in 20 ms frames both
ways (caller audio appends, agent audio deltas), transcripts and a tool call, as a gateway records
them through the SDK.

Real-time mode paces every frame on the wall clock with one timer for all sessions: it wakes at
most every ``TICK_S`` (10 ms, half a frame) and records every frame due by then, so the generator's
own wake-ups stay few (sleeping until each due frame woke it every 5 ms with 8 sessions); session
starts are spread evenly over ``--arrivals`` seconds and each session ends (``session.ended``)
``--duration`` seconds after its own start. The bench's sessions follow four scripts whose turns
fall at nearly the same times (every call opens with a 6 s greeting generated at 4x real time):
started within one second, N calls receive their agent's audio in the same second, which no
gateway's independent calls do; spread over 10 s, the calls' phases cover a whole exchange.
Fast mode publishes everything at once on a virtual clock (the backlog for throughput runs).
Runs as its own process (``python -m services.bench.load``) so its CPU is measured apart from
the pipeline's; it writes every published event id to ``--ids`` and prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.envelope import Direction, Provider
from schemas.system_events import SessionEnded
from services.recorder import Recorder, RecordingSession
from services.simulator.frames import Frame, FrameList, system_frames
from services.simulator.providers import PROFILES
from services.simulator.providers.openai import OpenAILeg
from services.simulator.run import _system_payload, started_for
from services.simulator.script import Script, build_script

FRAME_MS = 20
SCRIPTS = 4  # distinct scripts, reused round-robin: the payloads are shared, the envelopes not
TICK_S = 0.01
# A turn's first frame comes ~100 ms before its start (response.create), so turns starting this
# long after the load ends cannot reach it: their audio is never synthesized.
HORIZON_MS = 1_000


@dataclass(frozen=True)
class SessionPlan:
    script: Script
    frames: list[Frame]
    audio_bytes: int  # raw PCM bytes both ways within the session


def script_prefix(script: Script, limit_ms: float) -> Script:
    """The part of ``script`` whose frames can fall before ``limit_ms``: the same frames there.

    Synthesizing audio is most of a plan's CPU (a script runs ~85 s; the bench plays 10-30 s of
    it) and the generator's CPU is measured with the load. Kept: the turns starting before the
    horizon; then, as 20 ms stubs, those up to the next agent turn (a caller turn's transcript
    is timed from its reply's start); their tool calls; the caller's track up to the last of
    them. ``tests/unit/test_bench_load.py`` compares the frames with the whole script's.
    """
    horizon = int(limit_ms) + HORIZON_MS
    turns = script.turns
    n = next((i for i, t in enumerate(turns) if t.start_ms >= horizon), len(turns))
    m = next((i + 1 for i in range(n, len(turns)) if turns[i].speaker == "agent"), len(turns))
    kept = [*turns[:n], *(t.model_copy(update={
        "end_ms": t.start_ms + FRAME_MS, "marker_ms": 0,
        "heard_ms": None if t.heard_ms is None else min(t.heard_ms, FRAME_MS)})
        for t in turns[n:m])]
    indexes = {t.index for t in kept}
    return script.model_copy(update={
        "turns": kept, "tool_calls": [c for c in script.tool_calls if c.after_turn in indexes],
        "duration_ms": min(script.duration_ms, max([horizon, *(t.end_ms for t in kept)]))})


def plan_session(seed: str, duration_s: float) -> SessionPlan:
    """Every frame of one 20 ms OpenAI GA session up to ``duration_s`` (pure, numpy inside)."""
    script = build_script(seed)
    limit = duration_s * 1000
    full = script
    script = script_prefix(script, limit)
    out = FrameList()
    OpenAILeg(ga=True, codec="pcm16", input_chunk_ms=FRAME_MS, agent_chunk_ms=FRAME_MS
              ).build(script, out)
    for frame in system_frames(script):
        out.add_frame(frame)
    frames = [f for f in out.sorted() if f.at_ms < limit]
    audio = 0
    for f in frames:
        kind = f.payload.get("type")
        if kind == "input_audio_buffer.append":
            audio += len(base64.b64decode(f.payload["audio"]))
        elif kind == "response.output_audio.delta":
            audio += len(base64.b64decode(f.payload["delta"]))
    return SessionPlan(full, frames, audio)


# One record() call as a gateway makes it: direction, the provider's frame (a dict), and the
# provider of a bridged leg or the type of a system event.
Call = tuple[Direction, dict[str, Any], Provider | None, str | None]


def calls(plan: SessionPlan) -> list[Call]:
    """A plan's record() arguments, resolved once (not per session and frame)."""
    return [(Direction.SYSTEM, _system_payload(f), None, f.type_) if f.direction == "system"
            else (Direction(f.direction), f.payload, f.provider, None) for f in plan.frames]


def schedule(plans: list[SessionPlan], sessions: int, duration_s: float, arrivals_s: float
             ) -> list[tuple[float, int, int]]:
    """One timeline for all sessions: (due seconds, session index, frame index) in due order.

    Session ``i`` plays ``plans[i % len(plans)]`` from ``i * arrivals_s / sessions``; its last
    item, frame index = its plan's frame count, is its end, ``duration_s`` after its start.
    """
    offsets = [i * arrivals_s / max(1, sessions) for i in range(sessions)]
    return sorted([(offsets[i] + f.at_ms / 1000, i, j)
                   for i in range(sessions)
                   for j, f in enumerate(plans[i % len(plans)].frames)]
                  + [(offsets[i] + duration_s, i, len(plans[i % len(plans)].frames))
                     for i in range(sessions)])


class _Clock:
    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns


async def run_load(settings: Any, tenant: str, sessions: int, duration_s: float, *,
                   realtime: bool = True, progress: bool = False, arrivals_s: float = 1.0
                   ) -> dict[str, Any]:
    plans = await asyncio.gather(*(asyncio.to_thread(plan_session, f"bench:{i}", duration_s)
                                   for i in range(min(SCRIPTS, sessions))))
    profile = PROFILES["openai"]
    recorder = await Recorder.connect(settings, tenant)
    ids: list[str] = []
    max_backlog = 0
    t_start = time.monotonic()
    try:
        clocks = [_Clock() for _ in range(sessions)] if not realtime else [None] * sessions
        recs: list[RecordingSession] = []
        for i in range(sessions):
            plan = plans[i % len(plans)]
            recs.append(recorder.session(f"bench-{i:04d}", Provider.OPENAI_REALTIME,
                                         started=started_for(profile, plan.script),
                                         clock=clocks[i]))
        timeline = schedule(plans, sessions, duration_s, arrivals_s if realtime else 0.0)
        plan_calls = [calls(plan) for plan in plans]
        opened: set[int] = set()
        t0 = time.monotonic()
        started_at = time.time()
        k, last_report = 0, t0
        while k < len(timeline):
            now = time.monotonic() - t0
            if realtime and timeline[k][0] > now:
                await asyncio.sleep(max(TICK_S, timeline[k][0] - now))
                continue
            # everything due by now (real time), or a slice of it (fast: let the publisher run)
            end = k
            while end < len(timeline) and (timeline[end][0] <= now if realtime else end - k < 500):
                end += 1
            for _, i, j in timeline[k:end]:
                rec = recs[i]
                if i not in opened:
                    opened.add(i)
                    started = rec.started.model_dump(mode="json")
                    ids.append((await rec.system("session.started", started)).event_id)
                clock = clocks[i]
                frames = plans[i % len(plans)].frames
                if j == len(frames):
                    if clock is not None:
                        clock.now_ns = int(duration_s * 1e9)
                    ended = SessionEnded(reason="completed", last_seq=rec.next_seq)
                    ids.append((await rec.system("session.ended",
                                                 ended.model_dump(mode="json"))).event_id)
                    continue
                if clock is not None:
                    clock.now_ns = int(frames[j].at_ms * 1_000_000)
                direction, payload, provider, type_ = plan_calls[i % len(plans)][j]
                ids.append(rec.record(direction, payload, provider=provider, type_=type_).event_id)
            k = end
            backlog = recorder.stats.queued - recorder.stats.published
            max_backlog = max(max_backlog, backlog)
            if not realtime:
                await asyncio.sleep(0)
                while recorder.stats.queued - recorder.stats.published > 5_000:
                    await asyncio.sleep(0.005)
            if progress and time.monotonic() - last_report >= 2:
                last_report = time.monotonic()
                print(json.dumps({"progress": round(time.monotonic() - t0, 1),
                                  "published": recorder.stats.published, "backlog": backlog}),
                      file=sys.stderr, flush=True)
        await recorder.flush(timeout=300)
    finally:
        await recorder.close()
    elapsed = time.monotonic() - t_start
    stats = recorder.stats
    return {
        "tenant": tenant, "sessions": sessions, "duration_s": duration_s,
        "arrivals_s": arrivals_s if realtime else 0.0, "started_at": started_at,
        "events": stats.published, "recorded": stats.queued, "elapsed_s": round(elapsed, 2),
        "dropped": stats.dropped, "spilled": stats.spilled, "rejected": stats.rejected,
        "max_backlog": max_backlog,
        "audio_bytes": sum(plans[i % len(plans)].audio_bytes for i in range(sessions)),
        "call_seconds": sessions * duration_s,
        # record() as the gateway sees it (stamp, encode, append to the session's batch)
        "record_p99_ms": round(stats.record_ns.percentile_ns(99) / 1e6, 3),
        "max_record_ms": round(stats.max_record_ns / 1e6, 3),
        "batches": stats.batches,
        "_ids": ids,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="publish the benchmark load")
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--arrivals", type=float, default=1.0,
                    help="seconds over which the real-time sessions start (default 1)")
    ap.add_argument("--ids", type=Path, required=True)
    args = ap.parse_args()
    from services.platform.settings import load_settings

    result = asyncio.run(run_load(load_settings(), args.tenant, args.sessions, args.duration,
                                  realtime=not args.fast, progress=True,
                                  arrivals_s=args.arrivals))
    args.ids.write_text("\n".join(result.pop("_ids")) + "\n")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
