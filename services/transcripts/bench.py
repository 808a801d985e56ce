"""Time the transcript builder's ``handle`` over simulated sessions (``python -m
services.transcripts.bench``): a measurement, not a test. Prints events/s of the handler.

Sessions of every simulated provider are interleaved in time order (as live calls arrive) and cut
into batches, each handled and committed in its own transaction against the configured Postgres,
under a fresh random tenant that is deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta

import uuid_utils
from sqlalchemy import delete

from schemas.envelope import Direction, Envelope, Provider
from services.ledger.memory import MemoryLedger
from services.platform.db import make_async_engine
from services.platform.settings import load_settings
from services.recorder.frames import frame_type
from services.simulator.providers import PROFILES
from services.simulator.run import plan
from services.simulator.script import build_script
from services.transcripts.consumer import TranscriptBuilder
from services.transcripts.models import TranscriptSession

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def envelopes(tenant: str, sessions: int) -> list[tuple[float, Envelope]]:
    out: list[tuple[float, Envelope]] = []
    names = sorted(PROFILES)
    for n in range(sessions):
        name = names[n % len(names)]
        profile = PROFILES[name]
        session = f"s-{n}-{secrets.token_hex(4)}"
        for seq, f in enumerate(plan(name, build_script(f"bench-{n}"))):
            prov = Provider(f.provider or profile.provider)
            mono = int(f.at_ms * 1e6)
            type_ = f.type_ or frame_type(prov, f.payload)
            out.append((f.at_ms, Envelope(
                event_id=str(uuid_utils.uuid7()), tenant_id=tenant, session_id=session, seq=seq,
                provider=prov, direction=Direction(f.direction), type=type_,
                recorded_at=T0 + timedelta(microseconds=mono // 1000), mono_ns=mono,
                payload=f.payload)))
    out.sort(key=lambda x: x[0])
    return out


async def main(sessions: int, batch: int, every: float | None) -> None:
    settings = load_settings()
    engine = make_async_engine(settings)
    tenant = "t-bench-" + secrets.token_hex(4)
    envs = [e for _, e in envelopes(tenant, sessions)]
    sealed = MemoryLedger()
    handler = (TranscriptBuilder(sealed) if every is None
               else TranscriptBuilder(sealed, rebuild_every=every))
    t0 = time.perf_counter()
    try:
        for i in range(0, len(envs), batch):
            async with engine.begin() as conn:
                await handler.handle(conn, sealed.seal(envs[i:i + batch]))
            await handler.maintain(engine)
        took = time.perf_counter() - t0
        audio = sum(e.kind == "audio" for e in envs)
        print(f"sessions={sessions} batch={batch} events={len(envs)} audio={audio} "
              f"seconds={took:.2f} events_per_s={len(envs) / took:.0f}")
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(TranscriptSession).where(
                TranscriptSession.tenant_id == tenant))
        await engine.dispose()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--sessions", type=int, default=10)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--rebuild-every", type=float, default=None,
                   help="0 rebuilds on every batch, as before the window")
    a = p.parse_args()
    asyncio.run(main(a.sessions, a.batch, a.rebuild_every))
