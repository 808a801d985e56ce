"""Acceptance (issue 12, item 5): the pipeline's role cannot rewrite the ledger.

As the role every process uses (``VOXLEDGER_DATABASE_URL``): UPDATE, DELETE and TRUNCATE of
ledger entries and checkpoints fail, DDL fails, a session key can be neither rewritten nor nulled
nor its row deleted, except through ``voxledger_destroy_session_key``, which audits who, when and
why. Even the owner's UPDATE is refused by the trigger (only a superuser switching triggers off
gets through; the tamper tests show verify still catches that).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.key_destruction import destroy_session_key
from services.platform.db import make_async_engine
from services.platform.settings import Settings
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration

WHERE = "WHERE tenant_id = :t"
REFUSED = [
    f"UPDATE ledger_entries SET payload_ct = '\\x00' {WHERE}",
    f"UPDATE ledger_entries SET position = position + 1000000 {WHERE}",
    f"DELETE FROM ledger_entries {WHERE}",
    "TRUNCATE ledger_entries",
    f"UPDATE ledger_checkpoints SET note = 'forged' {WHERE}",
    f"DELETE FROM ledger_checkpoints {WHERE}",
    "TRUNCATE ledger_checkpoints",
    f"UPDATE ledger_sessions SET wrapped_dek = NULL {WHERE}",
    f"UPDATE ledger_sessions SET wrapped_dek = '\\x01' {WHERE}",
    f"DELETE FROM ledger_sessions {WHERE}",
    f"DELETE FROM ledger_key_destructions {WHERE}",
    "INSERT INTO ledger_key_destructions (tenant_id, session_id, reason, destroyed_by, had_key) "
    "VALUES (:t, 's', 'forged', 'nobody', true)",
    "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only",
    "CREATE TABLE voxledger_probe (id int)",
    "DROP TABLE ledger_worm_outbox",
]


async def refused(engine: AsyncEngine, sql: str, tenant: str) -> str | None:
    """The database's refusal of ``sql`` (rolled back), or None when it was allowed."""
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), {"t": tenant})
            await conn.rollback()
    except DBAPIError as exc:
        return str(exc.orig).splitlines()[0]
    return None


async def assert_append_only(engine: AsyncEngine, tenant: str) -> None:
    """Every statement of REFUSED fails for ``engine``'s role (rows of ``tenant`` exist)."""
    async with engine.connect() as conn:
        for table in ("ledger_entries", "ledger_checkpoints", "ledger_sessions"):
            n = (await conn.execute(text(f"SELECT count(*) FROM {table} {WHERE}"),
                                    {"t": tenant})).scalar_one()
            assert n > 0, f"{table} has no row of the tenant: the refusals would prove nothing"
    allowed = [sql for sql in REFUSED if await refused(engine, sql, tenant) is None]
    assert allowed == [], f"the pipeline's role may still run: {allowed}"


@pytest.fixture
async def sealed_tenant(settings: Settings, tenant: str) -> str:
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        await sealer.wait_for(await publish_small_session(settings, tenant, "s-1", frames=3))
    finally:
        await sealer.stop()
        await sealer.close()
    return tenant


async def test_the_pipeline_role_cannot_rewrite_the_ledger(settings: Settings,
                                                           sealed_tenant: str) -> None:
    engine = make_async_engine(settings)
    try:
        await assert_append_only(engine, sealed_tenant)
        # Inserting is what the role is for: a new checkpoint row (an entry needs the sealer).
        assert await refused(engine, "INSERT INTO ledger_checkpoints (tenant_id, size, root, "
                             "note, reason, worm_key) VALUES (:t, 999999, '\\x00', 'n', 'r', 'k')",
                             sealed_tenant) is None
    finally:
        await engine.dispose()


async def test_even_the_owner_is_refused_by_the_trigger(owner_settings: Settings,
                                                        sealed_tenant: str) -> None:
    engine = make_async_engine(owner_settings)
    try:
        for sql in (REFUSED[0], REFUSED[2], REFUSED[4], REFUSED[5], REFUSED[8]):
            why = await refused(engine, sql, sealed_tenant)
            assert why is not None and "voxledger:" in why, (sql, why)
    finally:
        await engine.dispose()


async def test_a_session_key_is_destroyed_only_through_the_audited_function(
        settings: Settings, sealed_tenant: str) -> None:
    engine = make_async_engine(settings)
    sealer = TenantSealer(settings, sealed_tenant)
    try:
        with pytest.raises(ValueError):
            async with engine.begin() as conn:
                await destroy_session_key(conn, sealed_tenant, "s-1", " ")
        async with engine.begin() as conn:
            assert await destroy_session_key(conn, sealed_tenant, "s-1", "erasure request e-1")
        async with engine.begin() as conn:  # nothing left to destroy: still audited
            assert not await destroy_session_key(conn, sealed_tenant, "s-1", "retention")
        async with engine.connect() as conn:
            key = (await conn.execute(text(f"SELECT wrapped_dek FROM ledger_sessions {WHERE}"),
                                      {"t": sealed_tenant})).scalar_one()
            audit = (await conn.execute(text(
                "SELECT session_id, reason, destroyed_by, had_key FROM ledger_key_destructions "
                f"{WHERE} ORDER BY id"), {"t": sealed_tenant})).all()
        assert key is None
        login = settings.database_url.get_secret_value().split("://", 1)[1].split(":", 1)[0] \
            if settings.database_url else ""
        assert [tuple(r) for r in audit] == [("s-1", "erasure request e-1", login, True),
                                             ("s-1", "retention", login, False)]
        report = await sealer.verify()  # law 5: erasure never breaks the proof
        assert report.ok and report.erased_sessions == 1, [str(e) for e in report.errors]
    finally:
        await engine.dispose()
        await sealer.close()
