"""The upgrade path to per-tenant KEKs: re-wrap every stored session key under its tenant's
current KEK with tenant+session AAD (``voxledger keys rewrap``).

Keys wrapped before (format 1, an HKDF-derived KEK) keep unwrapping, so a stack upgraded in place
keeps working; until they are re-wrapped, though, destroying the tenant's KEK is what makes them
unreadable (the provider refuses format 1 for a destroyed tenant). Idempotent: a key already in
the current format and version is left alone. One short transaction per batch.

``engine`` must connect as the database owner: the key guard lets only the owner, inside a
transaction that sets ``voxledger.key_rewrap``, replace a live key (the pipeline's role could
otherwise overwrite one with garbage and so destroy it without the audit row).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.platform.keys import KeyProvider, needs_rewrap, rewrap_dek

BATCH = 500


async def rewrap_all(engine: AsyncEngine, keys: KeyProvider, tenant: str | None = None) -> int:
    done = 0
    after = ("", "")
    while True:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT set_config('voxledger.key_rewrap', 'on', true)"))
            rows = (await conn.execute(text(
                "SELECT tenant_id, session_id, wrapped_dek FROM ledger_sessions WHERE "
                "wrapped_dek IS NOT NULL AND (tenant_id, session_id) > (:a, :b) "
                + ("AND tenant_id = :t " if tenant else "")
                + "ORDER BY tenant_id, session_id LIMIT :n FOR UPDATE"),
                {"a": after[0], "b": after[1], "t": tenant, "n": BATCH})).all()
            if not rows:
                return done
            for t, s, wrapped in rows:
                if needs_rewrap(bytes(wrapped)):
                    await conn.execute(text(
                        "UPDATE ledger_sessions SET wrapped_dek = :w WHERE tenant_id = :t AND "
                        "session_id = :s"),
                        {"w": rewrap_dek(keys, t, s, bytes(wrapped)), "t": t, "s": s})
                    done += 1
            after = (rows[-1][0], rows[-1][1])
