"""Whole-tenant erasure (``voxledger tenants erase T --confirm T``).

Every session of the tenant goes through the ordinary cascade (one forget path), plus what is
the tenant's rather than a session's: its redaction policy, whatever is left on its NATS
subjects, every training export object under its prefix. After ``erasure.completed`` is sealed,
the journal's data key and the tenant's KEK are destroyed: everything encrypted for the tenant
is unreadable, its leaves and checkpoints still verify (its signing key is not its KEK), and no
other tenant's key is touched.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from services.ledger.forget import destroy_session_key
from services.ledger.journal_ids import JOURNAL_SESSION, is_reserved_session
from services.platform.deadletter_forget import count_messages, nats_client
from services.platform.forget import DataClass, ForgetContext, ForgetScope, StoreOutcome
from services.platform.s3_forget import delete_prefix

TENANT_TABLES = ("redaction_policies",)


async def tenant_sessions(ctx: ForgetContext, tenant: str) -> list[str]:
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT session_id FROM ledger_sessions WHERE tenant_id = :t UNION "
            "SELECT session_id FROM sessions WHERE tenant_id = :t UNION "
            "SELECT session_id FROM transcript_sessions WHERE tenant_id = :t ORDER BY 1"),
            {"t": tenant})
        return [r[0] for r in rows if not is_reserved_session(r[0])]


class TenantWideForgetter:
    """What belongs to the tenant as a whole (used only by tenant erasure)."""

    store = "tenant"
    tables = TENANT_TABLES
    buckets = ("bucket_exports",)
    classes: frozenset[DataClass] = frozenset()

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        out = StoreOutcome(self.store)
        async with ctx.engine.begin() as conn:
            for table in TENANT_TABLES:
                n = (await conn.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"),
                                        {"t": scope.tenant_id})).rowcount
                out.deleted += n
                out.detail[table] = n
            n = (await conn.execute(text("DELETE FROM training_exports WHERE tenant_id = :t"),
                                    {"t": scope.tenant_id})).rowcount
            out.deleted += n
            out.detail["training_exports"] = n
        gone = await asyncio.to_thread(delete_prefix, ctx.s3, ctx.settings.bucket_exports,
                                       f"training/{scope.tenant_id}/")
        out.deleted += gone.deleted
        out.detail["export_objects"] = gone.deleted
        subject = f"{ctx.settings.subject_prefix}.{scope.tenant_id}.>"
        async with nats_client(ctx) as nc:
            n = await count_messages(nc, ctx.settings.stream_name, subject)
            if n:
                await nc.jetstream().purge_stream(ctx.settings.stream_name, subject=subject)
        out.deleted += n
        out.detail["nats_messages"] = n
        return out

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        return StoreOutcome(self.store)


async def shred_tenant(ctx: ForgetContext, tenant: str) -> StoreOutcome:
    """After the completion event: the journal's key, then the tenant KEK."""
    out = StoreOutcome("tenant_kek")
    async with ctx.engine.begin() as conn:
        if await destroy_session_key(conn, tenant, JOURNAL_SESSION, "tenant-offboarding"):
            out.shredded += 1
    if await asyncio.to_thread(ctx.keys.destroy_tenant_kek, tenant):
        out.shredded += 1
        out.detail["kek"] = 1
    return out
