"""A recorded world for the API tests: two tenants whose calls went through the whole pipeline
(sealer, catalog, transcripts, redaction, audio), a token per tenant and role, and the API
served by uvicorn on a free loopback port in a thread of its own.

Built once per test session (the pipeline takes a minute on a 2-core machine); each tenant is
random, so the world touches nobody else's data.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select

from services.api import token_repo
from services.api.serve import EmbeddedServer, make_server
from services.api.tokens import Role, new_token
from services.audio.consumer import AudioRecorder
from services.audio.models import AudioRecording
from services.ledger.catalog import SessionCatalog
from services.ledger.catalog_models import SessionRow
from services.platform.db import make_async_engine
from services.platform.keys import LocalKeyProvider
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.redaction.models import RedactionSession
from services.simulator import simulate
from tests.integration.consumers import isolate, running, wait_for
from tests.integration.ledger_helpers import TenantSealer
from tests.integration.redaction_helpers import redaction_for, transcripts_for

CONSENT = {"recording": "granted", "transcription": "granted", "training": "granted"}


@dataclass
class World:
    url: str
    tenants: tuple[str, str]
    sessions: dict[str, list[str]]  # tenant -> session ids
    tokens: dict[tuple[str, Role], str] = field(default_factory=dict)
    server: EmbeddedServer | None = None

    def token(self, tenant: str, role: Role) -> str:
        return self.tokens[(tenant, role)]


async def _pipeline(settings: Settings, tenant: str, sessions: int, seed: int) -> list[str]:
    sims = await simulate(settings, "openai", sessions, seed, tenant, consent=CONSENT)  # type: ignore[arg-type]
    sealer = TenantSealer(settings, tenant)
    keys = LocalKeyProvider.from_file(settings.keyring_path)
    db = make_async_engine(settings, pool_size=2)
    try:
        await sealer.start()
        await sealer.wait_for(sum(s.events for s in sims))
        async with (running(settings, isolate(SessionCatalog(), "catalog", tenant)),
                    running(settings, transcripts_for(settings, tenant)),
                    running(settings, redaction_for(settings, tenant))):
            audio = AudioRecorder(settings, keys, make_s3_client(settings), tenant=tenant)
            try:
                async def done() -> bool:
                    await audio.poll(sealer.engine)
                    async with db.connect() as conn:
                        ended = (await conn.execute(select(func.count()).where(
                            SessionRow.tenant_id == tenant, SessionRow.ended_at.is_not(None))
                        )).scalar_one()
                        redacted = (await conn.execute(select(func.count()).where(
                            RedactionSession.tenant_id == tenant,
                            RedactionSession.redacted_at.is_not(None)))).scalar_one()
                        heard = (await conn.execute(select(func.count()).where(
                            AudioRecording.tenant_id == tenant, AudioRecording.kind == "heard",
                            AudioRecording.status == "complete"))).scalar_one()
                    return ended == redacted == heard == len(sims)
                await wait_for(done, timeout=600)
            finally:
                await audio.close()
        await sealer.stop()  # flushes the WORM copies of the checkpoints it signed
    finally:
        await sealer.close()
        await db.dispose()
    return [s.session_id for s in sims]


async def make_tokens(settings: Settings, tenants: tuple[str, ...]) -> dict[tuple[str, Role], str]:
    db = make_async_engine(settings, pool_size=1)
    out = {}
    try:
        async with db.begin() as conn:
            for t in tenants:
                for role in Role:
                    made = new_token()
                    await token_repo.insert(conn, made.token_id, t, role.value,
                                            f"test {role.value}", made.secret_sha256)
                    out[(t, role)] = made.token
    finally:
        await db.dispose()
    return out


def serve_in_thread(settings: Settings, app: Any = None) -> EmbeddedServer:
    """Serve ``app`` (default: ``create_app(settings)``) on a free loopback port."""
    server = (make_server(settings, "127.0.0.1", 0) if app is None else EmbeddedServer(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")))
    thread = threading.Thread(target=server.run, name="api-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the API server did not start")
        time.sleep(0.05)
    return server


@pytest.fixture(scope="session")
def api_world(settings: Settings) -> Iterator[World]:
    # Generous limits: the matrix and the property run send hundreds of requests per token.
    api_settings = settings.model_copy(update={"api_rate_per_s": 1000.0, "api_rate_burst": 5000})
    a, b = "api-a-" + secrets.token_hex(4), "api-b-" + secrets.token_hex(4)

    async def build() -> dict[str, list[str]]:
        got = await asyncio.gather(_pipeline(settings, a, 2, 31), _pipeline(settings, b, 1, 32))
        return {a: got[0], b: got[1]}

    sessions = asyncio.run(build())
    world = World("", (a, b), sessions, asyncio.run(make_tokens(settings, (a, b))))
    world.server = serve_in_thread(api_settings)
    world.url = world.server.url
    yield world
    world.server.should_exit = True
