"""The ledger's and the catalog's forgetters (services/platform/forget.py).

Erasing a session in the ledger is crypto-shredding, not deletion: entries, leaves, checkpoints
and the audio index stay (law 5: erasure never breaks proof), the session's data key is destroyed
through :func:`destroy_session_key` (payloads, subject values, raw segments and recordings become
unreadable), the subject index rows are deleted (nothing finds the person any more) and the raw
audio objects are deleted, every version, where no object lock forbids it.

Raw audio of a sealed batch is one object shared by the sessions of that batch, each session's
part encrypted under its own key (services/ledger/segments.py). Destroying the key shreds the
session's part in every such object at once; an object is deleted as soon as no session with a
live key has a part in it (the erasure of the last one deletes it), and until then it holds only
ciphertext the erased session's destroyed key alone could open (counted as
``raw_shared_objects``). Retention disposal runs the same erasure, so the same holds there.
Objects sealed before batch objects (``raw/<tenant>/<session>/``) are deleted by prefix.

The catalog row of a session (provider, times, event counts: no identifiers, no content) is kept
so ``sessions list|show`` can say the session existed and was erased.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger import reads
from services.ledger.journal_ids import is_reserved_session
from services.ledger.key_destruction import MAX_REASON
from services.ledger.key_destruction import destroy_session_key as _destroy
from services.platform.forget import (
    BeyondUse,
    DataClass,
    ForgetContext,
    ForgetError,
    ForgetScope,
    StoreOutcome,
)
from services.platform.s3_forget import delete_prefix

LEDGER_TABLES = ("ledger_entries", "ledger_trees", "ledger_checkpoints", "ledger_sessions",
                 "ledger_subjects", "ledger_audio_segments", "ledger_audio_refs")
# Kept for the proofs after erasure (hashes, positions, offsets; no content, no identifiers).
PROOF_TABLES = frozenset({"ledger_entries", "ledger_trees", "ledger_checkpoints",
                          "ledger_sessions", "ledger_audio_segments", "ledger_audio_refs"})


async def destroy_session_key(conn: AsyncConnection, tenant: str, session: str,
                              reason: str) -> bool:
    """The one way a session's data key dies: the audited SQL function
    (``services/ledger/key_destruction.py``). True when a key was destroyed now."""
    return await _destroy(conn, tenant, session, reason[:MAX_REASON])


def raw_prefix(tenant: str, session: str) -> str:
    return f"raw/{tenant}/{session}/"  # services/ledger/sealing.py segment_key


class LedgerForgetter:
    store = "ledger"
    tables = LEDGER_TABLES
    buckets = ("bucket_ledger", "bucket_worm")  # the WORM bucket holds checkpoints only
    classes = frozenset({DataClass.RAW_EVENTS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        out = StoreOutcome(self.store)
        for session in scope.session_ids:
            if is_reserved_session(session):
                raise ForgetError("the tenant journal cannot be erased")
            async with ctx.engine.begin() as conn:
                entries = (await conn.execute(text(
                    "SELECT entries FROM ledger_sessions WHERE tenant_id = :t AND "
                    "session_id = :s AND wrapped_dek IS NOT NULL"),
                    {"t": scope.tenant_id, "s": session})).scalar()
                if await destroy_session_key(conn, scope.tenant_id, session, scope.reason):
                    out.shredded += int(entries or 0)
                    out.detail["session_keys"] = out.detail.get("session_keys", 0) + 1
                gone = (await conn.execute(text(
                    "DELETE FROM ledger_subjects WHERE tenant_id = :t AND session_id = :s"),
                    {"t": scope.tenant_id, "s": session})).rowcount
                out.deleted += gone
                out.detail["ledger_subjects"] = out.detail.get("ledger_subjects", 0) + gone
                shared = await reads.segment_objects(conn, scope.tenant_id, session)
                dead = await reads.objects_without_live_parts(conn, scope.tenant_id, shared)
            # A batch object's key has a fixed-width position and a suffix: as a prefix it
            # matches that object's versions only.
            for prefix in [raw_prefix(scope.tenant_id, session), *dead]:
                deletion = await asyncio.to_thread(
                    delete_prefix, ctx.s3, ctx.settings.bucket_ledger, prefix)
                out.deleted += deletion.deleted
                out.detail["raw_segment_objects"] = (out.detail.get("raw_segment_objects", 0)
                                                     + deletion.deleted)
                out.beyond_use.extend(BeyondUse(self.store, key, until)
                                      for key, until in deletion.locked)
            kept = len(shared) - len(dead)
            if kept:
                out.detail["raw_shared_objects"] = out.detail.get("raw_shared_objects", 0) + kept
        return out

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.RAW_EVENTS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)


class CatalogForgetter:
    """The catalog holds no identifiers or content: its rows stay as the record that a session
    existed (``sessions show`` reports it erased)."""

    store = "catalog"
    tables = ("sessions",)
    buckets: tuple[str, ...] = ()
    classes: frozenset[DataClass] = frozenset()

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        return StoreOutcome(self.store)

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        return StoreOutcome(self.store)
