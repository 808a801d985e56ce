"""Erasure consults the HoldChecker (legal holds, issue 15): held sessions are refused with
``erasure.refused`` naming the matter, the others are erased; a request whose sessions are all
held is refused. Also: per-class ``dispose`` touches only its class (real Postgres, S3, NATS)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.erasure.context import forget_context
from services.erasure.identifiers import parse
from services.erasure.service import request_erasure, run_request
from services.ledger.forget import LedgerForgetter
from services.platform.forget import DataClass, ForgetContext, ForgetScope
from services.platform.settings import Settings
from tests.integration.ledger_helpers import PHONE, TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


class HoldFirst:
    def __init__(self, session: str) -> None:
        self.session = session

    async def held(self, ctx: ForgetContext, tenant_id: str,
                   session_ids: tuple[str, ...]) -> dict[str, str]:
        return {s: "MATTER-42" for s in session_ids if s == self.session}


async def seal_two(settings: Settings, tenant: str, session_id: str) -> list[str]:
    sealer = TenantSealer(settings, tenant)
    sessions = [session_id, session_id + "-2"]
    total = 0
    for s in sessions:
        total += await publish_small_session(settings, tenant, s, frames=2)
    await sealer.start()
    try:
        await sealer.wait_for(total)
        await sealer.stop()
    finally:
        await sealer.close()
    return sessions


async def _types(ctx: ForgetContext, tenant: str) -> list[str]:
    async with ctx.engine.connect() as conn:
        return [r[0] for r in await conn.execute(text(
            "SELECT type FROM ledger_entries WHERE tenant_id = :t AND session_id = '_journal' "
            "ORDER BY position"), {"t": tenant})]


async def test_held_sessions_are_refused_and_the_rest_erased(
        settings: Settings, tenant: str, session_id: str) -> None:
    sealed = await seal_two(settings, tenant, session_id)
    async with forget_context(settings) as ctx:
        created = await request_erasure(ctx, tenant, [parse("phone_e164", "(415) 555-0123")],
                                        [], "ticket", HoldFirst(sealed[0]))
        assert created.held == {sealed[0]: "MATTER-42"} and created.sessions == [sealed[1]]
        assert await run_request(ctx, created.request_id) == created.request_id
        async with ctx.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT status, refused_reason, identifiers_ct FROM erasure_requests WHERE "
                "request_id = :r"), {"r": created.request_id})).one()
            keys: dict[str, bool] = dict((await conn.execute(text(
                "SELECT session_id, wrapped_dek IS NULL FROM ledger_sessions WHERE "
                "tenant_id = :t"), {"t": tenant})).all())
        assert row.status == "completed" and "MATTER-42" in row.refused_reason
        assert "complaint" in row.refused_reason and row.identifiers_ct is None
        assert keys[sealed[0]] is False and keys[sealed[1]] is True
        assert await _types(ctx, tenant) == ["erasure.requested", "erasure.refused",
                                             "erasure.completed"]

        everything_held = await request_erasure(
            ctx, tenant, [parse("phone_e164", PHONE)], [sealed[0]], None, HoldFirst(sealed[0]))
        assert everything_held.status == "refused"
        assert await run_request(ctx, everything_held.request_id) is None  # nothing to run


async def test_dispose_touches_only_its_class(settings: Settings, tenant: str,
                                             session_id: str) -> None:
    sealed = await seal_two(settings, tenant, session_id)
    async with forget_context(settings) as ctx:
        scope = ForgetScope(tenant, (sealed[0],), "retention:raw_events")
        ledger = LedgerForgetter()
        untouched = await ledger.dispose(ctx, scope, DataClass.TRANSCRIPTS)
        assert (untouched.deleted, untouched.shredded) == (0, 0)
        done = await ledger.dispose(ctx, scope, DataClass.RAW_EVENTS)
            # The session's raw audio sits in its batch's object: deleted, or shredded by key
        # when another session's part shares it.
        assert done.shredded > 0 and (done.detail["raw_segment_objects"]
                                      + done.detail["raw_shared_objects"]) > 0
        again = await ledger.dispose(ctx, scope, DataClass.RAW_EVENTS)  # idempotent
        assert (again.deleted, again.shredded) == (0, 0)
        async with ctx.engine.connect() as conn:
            kept = (await conn.execute(text(
                "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t AND session_id = :s"),
                {"t": tenant, "s": sealed[0]})).scalar()
        assert kept  # leaves stay
