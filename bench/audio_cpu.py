"""CPU per event of the audio renderer + recording sinks (a benchmark, not a test; no stack).

    .venv/bin/python bench/audio_cpu.py [--seconds 60] [--sessions 4]

Feeds the benchmark's own sessions (``services.bench.load.plan_session``: OpenAI GA, 24 kHz PCM16
in 20 ms frames both ways) through ``SessionRenderer`` and two ``RecordingSink``s, one envelope at
a time as the recorder does, and prints µs per event with the PCM hashes (which must not change
when the renderer is optimised). Decryption and S3 reads are not included: see
``voxledger audio rebuild`` for the whole path.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.envelope import Direction, Provider
from services.audio.recording import RecordingSink
from services.audio.render import Event, SessionRenderer
from services.bench.load import plan_session
from services.simulator.providers import PROFILES
from services.simulator.run import _system_payload, started_for

AUDIO_FIELD = {"input_audio_buffer.append": "audio", "response.output_audio.delta": "delta"}
P = Provider.OPENAI_REALTIME


def session_events(seed: str, seconds: float) -> list[tuple[Event, list[bytes]]]:
    plan = plan_session(seed, seconds)
    started = started_for(PROFILES["openai"], plan.script).model_dump(mode="json")
    out = [(Event(0, 0, P, Direction.SYSTEM, "session.started", started), [])]
    for seq, f in enumerate(plan.frames, start=1):
        ns = int(f.at_ms * 1_000_000)
        if f.direction == Direction.SYSTEM:
            out.append((Event(seq, ns, P, Direction.SYSTEM, str(f.type_), _system_payload(f)), []))
            continue
        kind = str(f.payload.get("type"))
        audio = [base64.b64decode(f.payload[AUDIO_FIELD[kind]])] if kind in AUDIO_FIELD else []
        out.append((Event(seq, ns, f.provider or P, Direction(f.direction), kind, f.payload),
                    audio))
    end = len(out)
    out.append((Event(end, int(seconds * 1e9), P, Direction.SYSTEM, "session.ended",
                      {"reason": "completed", "last_seq": end}), []))
    return out


def record(events: list[tuple[Event, list[bytes]]]) -> tuple[str, str]:
    r = SessionRenderer(16000)
    heard = RecordingSink(b"k" * 32, b"s" * 16, b"heard", 16000, 2)
    unheard = RecordingSink(b"k" * 32, b"s" * 16, b"unheard", 16000, 1)
    for event, audio in events:
        out = r.feed(event, audio)
        heard.write(out.heard)
        unheard.write(out.unheard)
    out = r.finish()
    heard.write(out.heard)
    unheard.write(out.unheard)
    heard.finish()
    unheard.finish()
    return heard.pcm_sha256, unheard.pcm_sha256


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--sessions", type=int, default=4)
    args = ap.parse_args()
    sessions = [session_events(f"cpu-{i}", args.seconds) for i in range(args.sessions)]
    events = sum(len(s) for s in sessions)
    t0 = time.process_time()
    hashes = [record(s) for s in sessions]
    cpu = time.process_time() - t0
    print(json.dumps({"events": events, "cpu_s": round(cpu, 3),
                      "us_per_event": round(cpu / events * 1e6, 1),
                      "pcm_sha256": [[h[:16], u[:16]] for h, u in hashes]}))


if __name__ == "__main__":
    main()
