"""The reviewer console's browser tests' world: simulated OpenAI calls recorded through the whole
pipeline (sealer, catalog, transcripts, audio, redaction, each private to the test's tenant), API
tokens, and the API with its console served by uvicorn on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from services.api import token_repo
from services.api.serve import EmbeddedServer, make_server
from services.api.tokens import new_token
from services.audio.consumer import AudioRecorder
from services.ledger.catalog import SessionCatalog
from services.platform.keys import LocalKeyProvider
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.redaction.models import RedactionSession
from services.simulator.run import SimulatedSession, SubjectOverride, simulate
from services.transcripts.models import TranscriptSession
from tests.integration.consumers import isolate, running, wait_for
from tests.integration.ledger_helpers import TenantSealer
from tests.integration.redaction_helpers import redaction_for, transcripts_for

# The first tenant's caller (the script speaks it; the privacy queue's tests erase by it).
CALLER_PHONE = "+14155550142"


async def record_call(settings: Settings, tenant: str, seed: int,
                      phone: str | None = None) -> SimulatedSession:
    """One simulated OpenAI call of ``tenant``, sealed, checkpointed, transcribed, recorded and
    redacted (waits on each projection's own table, never on time); ``phone``: the caller's."""
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        async with running(settings, isolate(SessionCatalog(), "catalog", tenant)), \
                running(settings, transcripts_for(settings, tenant)), \
                running(settings, redaction_for(settings, tenant)):
            [sim] = await simulate(settings, "openai", 1, seed, tenant,
                                   subject=SubjectOverride(phone_e164=phone))
            await sealer.wait_for(sim.events)

            async def transcribed() -> bool:
                async with sealer.engine.connect() as conn:
                    frames = (await conn.execute(select(TranscriptSession.frames).where(
                        TranscriptSession.tenant_id == tenant))).scalar()
                return frames == sim.events
            await wait_for(transcribed)
            rec = AudioRecorder(settings, LocalKeyProvider.from_file(settings.keyring_path),
                                make_s3_client(settings), tenant=tenant)
            try:
                async def recorded() -> bool:
                    await rec.poll(sealer.engine)
                    return rec.completed > 0
                await wait_for(recorded)
            finally:
                await rec.close()

            async def redacted() -> bool:
                async with sealer.engine.connect() as conn:
                    at = (await conn.execute(select(RedactionSession.redacted_at).where(
                        RedactionSession.tenant_id == tenant))).scalar()
                return at is not None
            await wait_for(redacted)
    finally:
        await sealer.stop()
        await sealer.close()
    return sim


async def make_tokens(settings: Settings, tenant: str, *roles: str) -> dict[str, str]:
    from services.platform.db import make_async_engine

    engine = make_async_engine(settings)
    made: dict[str, str] = {}
    try:
        async with engine.begin() as conn:
            for role in roles:
                t = new_token()
                await token_repo.insert(conn, t.token_id, tenant, role, f"{role} of {tenant}",
                                        t.secret_sha256)
                made[role] = t.token
    finally:
        await engine.dispose()
    return made


@dataclass(frozen=True)
class World:
    url: str
    tenant: str
    other_tenant: str
    call: SimulatedSession
    other_call: SimulatedSession
    tokens: dict[str, str]


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[str]:
    # The console tests drive one token per role through many pages within seconds (a page
    # is several API calls); the rate limit has its own tests (tests/integration/test_api_access).
    roomy = settings.model_copy(update={"api_rate_per_s": 1000.0, "api_rate_burst": 5000})
    server: EmbeddedServer = make_server(roomy, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, name="console-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the API server did not start")
        time.sleep(0.05)
    try:
        yield server.url
    finally:
        server.should_exit = True
        thread.join(60)


def build_world(settings: Settings, tenant: str, other: str) -> tuple[SimulatedSession,
                                                                      SimulatedSession,
                                                                      dict[str, str]]:
    async def go() -> tuple[SimulatedSession, SimulatedSession, dict[str, str]]:
        call = await record_call(settings, tenant, 7, CALLER_PHONE)
        other_call = await record_call(settings, other, 8)
        tokens = await make_tokens(settings, tenant, "reviewer", "data", "auditor",
                                   "privacy")
        return call, other_call, tokens
    return asyncio.run(go())
