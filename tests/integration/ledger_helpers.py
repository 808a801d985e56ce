"""Shared pieces of the ledger integration tests: publish sessions, run a tenant's sealer, verify.

Each test seals only its own tenant (a partition sealer named ``sealer-<tenant>``), so tests run
against the shared stream without touching anyone else's data, and clean their consumer up.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
from typing import Any

from sqlalchemy import text

from schemas.envelope import Provider
from schemas.system_events import SessionStarted, SubjectIdentifiers
from services.ledger.sealer import Sealer
from services.ledger.storage import LedgerStorage
from services.ledger.trust import Trust
from services.ledger.verify import Report, verify_ledger
from services.platform.consumer import PullConsumer
from services.platform.db import make_async_engine
from services.platform.keys import LocalKeyProvider
from services.platform.nats import connect
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.platform.signing import PublicKeys
from services.recorder import Recorder
from services.runner.main import SEALER_DRIVER

PHONE = "+14155550123"


def b64(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


async def publish_small_session(settings: Settings, tenant: str, session: str,
                                frames: int = 20, **recorder_options: Any) -> int:
    """An OpenAI session with audio both ways and subject identifiers; returns events published.
    ``recorder_options`` go to :meth:`Recorder.connect` (``batch_max_frames``, ...)."""
    rec = await Recorder.connect(settings, tenant, **recorder_options)
    started = SessionStarted(provider="openai-realtime",
                             subject=SubjectIdentifiers(phone_e164=PHONE, customer_id="C-77"))
    async with rec.session(session, Provider.OPENAI_REALTIME, started=started) as s:
        for _ in range(frames):
            await s.client({"type": "input_audio_buffer.append", "audio": b64(960)})
            await s.server({"type": "response.output_audio.delta", "delta": b64(480),
                            "item_id": "item_1", "content_index": 0})
        await s.server({"type": "response.done", "response": {"status": "completed"}})
        count = s.next_seq + 1  # + session.ended
    await rec.close()
    return count


class TenantSealer:
    """A running partition sealer for one tenant, inside the test's event loop."""

    def __init__(self, settings: Settings, tenant: str, *, backfill_days: float | None = None,
                 driver: str = SEALER_DRIVER) -> None:
        # ``backfill_days``: accept events recorded up to that many days ago (the operator's
        # ``envelope_max_past_s``), for tests that record sessions on a shifted clock.
        # ``driver``: the engine the consumer seals on, by default the one ``voxledger run``
        # gives the sealer; reads and verify always use a psycopg ``engine``.
        if backfill_days is not None:
            settings = settings.model_copy(update={"envelope_max_past_s": backfill_days * 86400.0})
        self.settings = settings
        self.tenant = tenant
        self.engine = make_async_engine(settings)
        self.seal_engine = (self.engine if driver == "psycopg"
                            else make_async_engine(settings, driver=driver))
        self.keys = LocalKeyProvider.from_file(settings.keyring_path)
        self.storage = LedgerStorage(settings, make_s3_client(settings))
        self.sealer = Sealer(settings, self.keys, self.storage, tenant=tenant)
        self._task: asyncio.Task[None] | None = None
        self._consumer: PullConsumer | None = None
        self._nc: Any = None

    async def start(self) -> None:
        self._nc = await connect(self.settings, name="test-sealer")
        self._consumer = PullConsumer(self._nc, self.seal_engine, self.settings.stream_name,
                                      self.sealer, fetch_timeout=0.2, keys=self.keys,
                                      limits=self.settings.envelope_limits())
        self._task = asyncio.create_task(self._consumer.run())
        from tests.integration.consumers import SEALERS

        SEALERS.setdefault(self.tenant, [1, self])

    async def wait_for(self, entries: int, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while await self.count() < entries:
            if time.monotonic() > deadline:
                raise AssertionError(f"sealed {await self.count()} of {entries} entries")
            if self._task is not None and self._task.done():
                self._task.result()
            await asyncio.sleep(0.2)

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(text(
                "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t"),
                {"t": self.tenant})).scalar_one())

    async def stop(self) -> None:
        from tests.integration.consumers import SEALERS

        held = SEALERS.get(self.tenant)
        if held is not None and held[1] is self:
            del SEALERS[self.tenant]
        if self._consumer is not None and self._task is not None:
            self._consumer.stop()
            await asyncio.wait_for(self._task, 30)
            # The outbox: any checkpoint committed in the last batch gets its WORM copy now.
            await self.sealer.flush_worm(self.seal_engine)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.jetstream().delete_consumer(self.settings.stream_name,
                                                           self.sealer.name)
            await self._nc.close()

    async def verify(self, session: str | None = None, trust: Trust | None = None,
                     since: str | None = None) -> Report:
        trust = trust or Trust.local(PublicKeys.load(self.settings.signing_keys_dir))
        return await verify_ledger(self.engine, self.keys, self.storage, trust=trust,
                                   tenant=self.tenant, session=session, since=since)

    async def close(self) -> None:
        if self.seal_engine is not self.engine:
            await self.seal_engine.dispose()
        await self.engine.dispose()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


async def raw_object_versions(engine: Any, s3: Any, bucket: str, tenant: str, session: str
                              ) -> list[tuple[str, str]]:
    """(key, version id) of every raw audio object holding a part of ``session``: the batch
    objects it shares with the other sessions sealed in the same batches, and any segment sealed
    before batch objects under ``raw/<tenant>/<session>/``."""
    from services.ledger.reads import segment_objects

    async with engine.connect() as conn:
        keys = await segment_objects(conn, tenant, session)

    def versions() -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for prefix in [f"raw/{tenant}/{session}/", *keys]:
            page = s3.list_object_versions(Bucket=bucket, Prefix=prefix)
            out += [(str(v["Key"]), str(v["VersionId"])) for v in page.get("Versions", [])
                    if prefix.endswith("/") or v["Key"] == prefix]
        return out

    return await asyncio.to_thread(versions)
