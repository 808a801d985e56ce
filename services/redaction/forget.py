"""The redaction worker's forgetters: redacted turns, redaction state and consent (one store),
and past training exports (another: their files are rewritten without the session).

Pseudonym maps are not stored: pseudonyms are derived per session from the tenant pepper and the
session id (services/redaction/worker.py), so deleting the redacted turns leaves none behind.
"""

from __future__ import annotations

from services.platform.forget import (
    DataClass,
    ForgetContext,
    ForgetScope,
    StoreOutcome,
    delete_session_rows,
)
from services.redaction.export_forget import purge_exports

_TABLES = ("redacted_turns", "redacted_tool_calls", "redaction_sessions", "redaction_consent")


class RedactionForgetter:
    store = "redaction"
    tables = _TABLES
    buckets: tuple[str, ...] = ()
    classes = frozenset({DataClass.REDACTED_TRANSCRIPTS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        return await delete_session_rows(ctx, self.store, _TABLES, scope)

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.REDACTED_TRANSCRIPTS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)


class TrainingExportsForgetter:
    store = "training_exports"
    tables = ("training_exports", "training_export_sessions")
    buckets = ("bucket_exports",)
    classes = frozenset({DataClass.TRAINING_EXPORTS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        return await purge_exports(ctx, scope, self.store)

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.TRAINING_EXPORTS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)
