"""The transcript builder's forgetter: turns (with their search vectors), tool calls (arguments
and results) and the session summary — every row of the session."""

from __future__ import annotations

from services.platform.forget import (
    DataClass,
    ForgetContext,
    ForgetScope,
    StoreOutcome,
    delete_session_rows,
)

# Children first; transcript_sessions last (the others also cascade from it).
_TABLES = ("transcript_turns", "tool_calls", "transcript_sessions")


class TranscriptsForgetter:
    store = "transcripts"
    tables = _TABLES
    buckets: tuple[str, ...] = ()
    classes = frozenset({DataClass.TRANSCRIPTS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        return await delete_session_rows(ctx, self.store, _TABLES, scope)

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.TRANSCRIPTS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)
