"""The upgrade path: session keys wrapped the old way (format 1, HKDF-derived tenant KEK) are
re-wrapped under the tenant's own random KEK with tenant+session AAD (real Postgres)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.ledger.rewrap import rewrap_all
from services.platform.db import make_async_engine
from services.platform.keys import LocalKeyProvider, encrypt, new_dek
from services.platform.settings import Settings

pytestmark = pytest.mark.integration


def test_legacy_keys_are_rewrapped_and_still_open(settings: Settings, owner_settings: Settings,
                                                  tenant: str) -> None:
    keys = LocalKeyProvider.from_file(settings.keyring_path)
    deks = {f"s{i}": new_dek() for i in range(3)}
    legacy = {s: bytes([1]) + encrypt(keys._derive("kek", tenant), d, tenant.encode())
              for s, d in deks.items()}

    async def go() -> dict[str, bytes]:
        engine = make_async_engine(settings)
        try:
            async with engine.begin() as conn:
                for s, w in legacy.items():
                    await conn.execute(text(
                        "INSERT INTO ledger_sessions (tenant_id, session_id, wrapped_dek, entries,"
                        " max_seq, missing, duplicates, seq_conflicts, out_of_order, audio_bytes,"
                        " started, ended) VALUES (:t, :s, :w, 0, -1, 0, 0, 0, 0, 0, false, "
                        "false)"), {"t": tenant, "s": s, "w": w})
            with pytest.raises(DBAPIError, match="re-wrapped only by the owner"):
                await rewrap_all(engine, keys, tenant)  # the pipeline's role may not
            owner = make_async_engine(owner_settings)
            try:
                assert await rewrap_all(owner, keys, tenant) == 3
                assert await rewrap_all(owner, keys, tenant) == 0  # idempotent
            finally:
                await owner.dispose()
            async with engine.connect() as conn:
                return {r[0]: bytes(r[1]) for r in await conn.execute(text(
                    "SELECT session_id, wrapped_dek FROM ledger_sessions WHERE tenant_id = :t"),
                    {"t": tenant})}
        finally:
            await engine.dispose()

    stored = asyncio.run(go())
    for s, wrapped in stored.items():
        assert wrapped[0] == 2 and keys.unwrap_dek(tenant, wrapped, s) == deks[s]
    keys.destroy_tenant_kek(tenant)
    for s, wrapped in stored.items():
        with pytest.raises(Exception, match="gone"):
            keys.unwrap_dek(tenant, wrapped, s)
