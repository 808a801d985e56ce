"""The dead letters' part of the one forget path (``services/platform/forget.py``).

Dead letters carry the tenant and session they name, so erasing a session deletes its rows and
the ``dead_letters`` retention class deletes them per session too. Rows naming no session (a frame
whose subject and envelope named none) are left to the age-based purge the consumers run, and
their payloads die with the tenant's key at offboarding (they are wrapped by it).
"""

from __future__ import annotations

from sqlalchemy import delete

from services.platform.deadletter import DeadLetter
from services.platform.forget import (
    DataClass,
    ForgetContext,
    ForgetScope,
    Forgetter,
    StoreOutcome,
)


class DeadLetterForgetter:
    store = "dead_letters"
    tables: tuple[str, ...] = ("dead_letters",)
    buckets: tuple[str, ...] = ()
    classes = frozenset({DataClass.DEAD_LETTERS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        if not scope.session_ids:
            return StoreOutcome(self.store)
        async with ctx.engine.begin() as conn:
            result = await conn.execute(delete(DeadLetter).where(
                DeadLetter.tenant_id == scope.tenant_id,
                DeadLetter.session_id.in_(scope.session_ids)))
        n = int(result.rowcount or 0)
        return StoreOutcome(self.store, deleted=n, detail={"dead_letters": n})

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.DEAD_LETTERS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)


def forgetter() -> Forgetter:
    """For the erasure registry (typed: mypy checks the class against the Protocol)."""
    return DeadLetterForgetter()
