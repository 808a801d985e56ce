"""Peak RSS of the audio recorder for a one-hour session (a benchmark, not a test).

    .venv/bin/python bench/audio_memory.py [--minutes 60]

Publishes one synthetic OpenAI Realtime session (caller audio every 20 ms at 24 kHz, an agent
response of 4 s every 10 s, every third one truncated) through the recorder SDK on a virtual
clock, seals it with a tenant sealer, then records it in a *child process* that runs only the
audio recorder and reports its peak RSS (``ru_maxrss``) next to the baseline RSS of a child that
imports the same modules and records nothing. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.envelope import Direction, Provider
from schemas.system_events import AudioFormat, SessionStarted
from services.platform.settings import load_settings
from services.recorder import Recorder


def _b64(n: int, salt: int) -> str:
    # Not silence: a ramp, so the resampler and encryption do real work.
    return base64.b64encode(bytes((i * 7 + salt) & 0xFF for i in range(n))).decode()


async def publish(settings, tenant: str, session: str, minutes: int) -> int:  # type: ignore[no-untyped-def]
    clock_ns = [0]
    rec = await Recorder.connect(settings, tenant)
    fmt = AudioFormat(codec="pcm16", sample_rate=24000, channels=1)
    started = SessionStarted(provider="openai-realtime", input_format=fmt, output_format=fmt)
    caller, agent = _b64(960, 1), _b64(4800, 3)
    s = rec.session(session, Provider.OPENAI_REALTIME, started=started,
                    clock=lambda: clock_ns[0])
    async with s:
        total_ms = minutes * 60_000
        for t in range(0, total_ms, 20):
            clock_ns[0] = t * 1_000_000
            s.record(Direction.CLIENT, {"type": "input_audio_buffer.append", "audio": caller})
            if t % 10_000 == 2_000:
                n = t // 10_000
                item = f"item_{n}"
                for _ in range(40):  # 4 s of audio, sent within the first second
                    s.record(Direction.SERVER, {"type": "response.output_audio.delta", "item_id": item,
                                     "response_id": f"resp_{n}", "output_index": 0,
                                     "content_index": 0, "delta": agent})
                if n % 3 == 0:
                    s.record(Direction.CLIENT, {"type": "conversation.item.truncate", "item_id": item,
                                     "content_index": 0, "audio_end_ms": 1500})
            if t % 4000 == 0:
                await asyncio.sleep(0)
                while rec.stats.queued - rec.stats.published > 5000:
                    await asyncio.sleep(0.005)
        clock_ns[0] = total_ms * 1_000_000
        await s.end("completed")
        events = s.next_seq
    await rec.flush(timeout=600)
    await rec.close()
    return events


def child(tenant: str, record: bool) -> None:
    from services.audio.consumer import AudioRecorder
    from services.platform.db import make_async_engine
    from services.platform.keys import LocalKeyProvider
    from services.platform.s3 import make_s3_client

    settings = load_settings()

    async def run() -> dict[str, float]:
        engine = make_async_engine(settings)
        rec = AudioRecorder(settings, LocalKeyProvider.from_file(settings.keyring_path),
                            make_s3_client(settings), tenant=tenant)
        t0 = time.monotonic()
        while record and not rec.completed:
            await rec.poll(engine)
        await rec.close()
        await engine.dispose()
        return {"seconds": time.monotonic() - t0}

    out = asyncio.run(run())
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


async def main(minutes: int) -> None:
    from tests.integration.ledger_helpers import TenantSealer

    settings = load_settings()
    tenant, session = "bench-" + secrets.token_hex(4), "bench-hour"
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    t0 = time.monotonic()
    events = await publish(settings, tenant, session, minutes)
    await sealer.wait_for(events, timeout=3600)
    await sealer.stop()
    await sealer.close()
    sealed_s = time.monotonic() - t0

    def run_child(record: bool) -> dict[str, float]:
        res = subprocess.run([sys.executable, __file__, "--child", tenant]
                             + ([] if record else ["--baseline"]),
                             capture_output=True, text=True, check=True)
        return dict(json.loads(res.stdout.strip().splitlines()[-1]))

    base, run = run_child(False), run_child(True)
    print(json.dumps({"minutes": minutes, "events": events, "publish_and_seal_s": round(sealed_s, 1),
                      "record_s": round(run["seconds"], 1),
                      "baseline_peak_rss_mib": round(base["peak_rss_mib"], 1),
                      "recorder_peak_rss_mib": round(run["peak_rss_mib"], 1),
                      "tenant": tenant}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--child")
    parser.add_argument("--baseline", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.child:
        child(args.child, not args.baseline)
    else:
        asyncio.run(main(args.minutes))
