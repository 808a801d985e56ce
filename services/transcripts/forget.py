"""The transcript builder's forgetter: turns (with their search vectors), tool calls (arguments
and results), stored frames and the session summary — every row of the session."""

from __future__ import annotations

from sqlalchemy import text

from services.platform.forget import DataClass, ForgetContext, ForgetScope, StoreOutcome

# Children first; transcript_sessions last (the others also cascade from it).
_TABLES = ("transcript_turns", "tool_calls", "transcript_frames", "transcript_sessions")


class TranscriptsForgetter:
    store = "transcripts"
    tables = _TABLES
    buckets: tuple[str, ...] = ()
    classes = frozenset({DataClass.TRANSCRIPTS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        out = StoreOutcome(self.store)
        async with ctx.engine.begin() as conn:
            for table in _TABLES:
                n = (await conn.execute(text(
                    f"DELETE FROM {table} WHERE tenant_id = :t AND session_id = ANY(:s)"),
                    {"t": scope.tenant_id, "s": list(scope.session_ids)})).rowcount
                out.deleted += n
                out.detail[table] = n
        return out

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.TRANSCRIPTS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)
