"""Forgetters of the platform's own stores: dead letters and the NATS stream.

Dead letters keep a frame's raw bytes in clear (for an operator to inspect), so they are found by
the subject the frame arrived on, ``<prefix>.<tenant>.<session>.<kind>``, whatever its bytes are.
The NATS stream is a buffer, but it keeps a session's frames until its end is sealed (and up to
``max_age`` when something goes wrong): erasure purges the session's subjects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from services.platform.forget import (
    DataClass,
    ForgetContext,
    ForgetScope,
    Forgetter,
    StoreOutcome,
)


def session_subject_prefix(prefix: str, tenant: str, session: str) -> str:
    return f"{prefix}.{tenant}.{session}."


class DeadLettersForgetter:
    store = "dead_letters"
    tables = ("dead_letters",)
    buckets: tuple[str, ...] = ()
    classes = frozenset({DataClass.DEAD_LETTERS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        out = StoreOutcome(self.store)
        prefixes = [session_subject_prefix(ctx.settings.subject_prefix, scope.tenant_id, s)
                    for s in scope.session_ids]
        async with ctx.engine.begin() as conn:
            # starts_with, not LIKE: session ids may contain '_' (a LIKE wildcard).
            n = (await conn.execute(text(
                "DELETE FROM dead_letters WHERE EXISTS (SELECT 1 FROM unnest(CAST(:p AS text[])) "
                "AS p(x) WHERE starts_with(subject, p.x)) "
                # A frame whose subject named another session still names this one inside.
                "OR (tenant_id = :t AND session_id = ANY(CAST(:s AS text[])))"),
                {"p": prefixes, "t": scope.tenant_id, "s": list(scope.session_ids)})).rowcount
        out.deleted += n
        out.detail["dead_letters"] = n
        return out

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.DEAD_LETTERS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)


@asynccontextmanager
async def nats_client(ctx: ForgetContext) -> AsyncIterator[Any]:
    if ctx.nats is not None:
        yield ctx.nats
        return
    from services.platform.nats import connect

    nc = await connect(ctx.settings, name="voxledger-erasure")
    try:
        yield nc
    finally:
        await nc.close()


async def count_messages(nc: Any, stream: str, subject_filter: str) -> int:
    info = await nc.jetstream().stream_info(stream, subjects_filter=subject_filter)
    return sum((info.state.subjects or {}).values())


class NatsForgetter:
    store = "nats"
    tables: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()
    classes = frozenset({DataClass.RAW_EVENTS})

    async def erase(self, ctx: ForgetContext, scope: ForgetScope) -> StoreOutcome:
        out = StoreOutcome(self.store)
        stream = ctx.settings.stream_name
        async with nats_client(ctx) as nc:
            js = nc.jetstream()
            for session in scope.session_ids:
                subject = f"{ctx.settings.subject_prefix}.{scope.tenant_id}.{session}.>"
                n = await count_messages(nc, stream, subject)
                if n:
                    await js.purge_stream(stream, subject=subject)
                out.deleted += n
        out.detail["messages"] = out.deleted
        return out

    async def dispose(self, ctx: ForgetContext, scope: ForgetScope,
                      data_class: DataClass) -> StoreOutcome:
        if data_class is not DataClass.RAW_EVENTS:
            return StoreOutcome(self.store)
        return await self.erase(ctx, scope)


DeadLetterForgetter = DeadLettersForgetter


def forgetter() -> Forgetter:
    """The dead letters' forgetter (typed: mypy checks the class against the Protocol)."""
    return DeadLettersForgetter()
