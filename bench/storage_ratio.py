"""``storage_ratio`` alone: the storage piece of ``make bench`` on the stack of ``.voxledger/env``.

    .venv/bin/python bench/storage_ratio.py [--sessions 6] [--duration 60]

Publishes N bench sessions (the same OpenAI GA load as ``make bench``, fast mode) to a fresh
tenant, runs the sealer and the audio recorder (``voxledger run --only sealer --only audio``)
until every session's recording is complete, then prints the bytes stored per call-minute over
raw PCM (``services.bench.run.storage_report``) and the number of objects. A measurement, never an
assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from services.bench.load import run_load
from services.bench.private import stop
from services.bench.run import storage_report
from services.platform.db import make_async_engine
from services.platform.settings import load_settings

REPO = Path(__file__).resolve().parents[1]


async def main(sessions: int, duration: float, log: Path) -> dict[str, object]:
    settings = load_settings()
    tenant = f"storage-{secrets.token_hex(3)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXLEDGER_API")}
    env["VOXLEDGER_API_ENABLED"] = "false"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", "--processes", "1",
             "--only", "sealer", "--only", "audio"], cwd=REPO, env=env, stdout=out, stderr=out)
    engine = make_async_engine(settings, pool_size=2)
    try:
        result = await run_load(settings, tenant, sessions, duration, realtime=False)
        deadline = time.monotonic() + 600
        complete = 0
        while time.monotonic() < deadline:
            async with engine.connect() as conn:
                complete = int((await conn.execute(text(
                    "SELECT count(*) FROM audio_recordings WHERE tenant_id = :t AND "
                    "kind = 'heard' AND status = 'complete'"), {"t": tenant})).scalar_one())
            if complete >= sessions:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"`voxledger run` exited {proc.returncode}; see {log}")
            await asyncio.sleep(1)
        report = await storage_report(settings, engine, tenant, float(result["call_seconds"]))
    finally:
        stop(proc)
        await engine.dispose()
    return {"tenant": tenant, "sessions": sessions, "duration_s": duration,
            "events": result["events"], "recordings_complete": complete,
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in report.items()}}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=6)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--log", type=Path, default=Path("/tmp/storage_ratio_run.log"))
    args = ap.parse_args()
    print(json.dumps(asyncio.run(main(args.sessions, args.duration, args.log))), flush=True)
