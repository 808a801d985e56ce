"""Issue 15 acceptance, erasure side (runs once issue 14's erasure service is merged): an
erasure request for a caller whose session is on legal hold is refused for that session, naming
the matter, while the caller's other sessions are erased; after the release the re-submitted
request completes. The hold checker is the real one (services.retention.holds.Holds)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.platform.settings import Settings
from services.retention import actions
from services.retention.holds import Holds, Target
from tests.integration.ledger_helpers import (
    PHONE,
    TenantSealer,
    publish_small_session,
    raw_object_versions,
)
from tests.integration.retention_helpers import context

pytestmark = pytest.mark.integration
service = pytest.importorskip("services.erasure.service", reason="issue 14 (erasure) not merged")
identifiers = pytest.importorskip("services.erasure.identifiers")


async def test_a_held_session_survives_its_callers_erasure_until_released(
        settings: Settings, tenant: str) -> None:
    sealer = TenantSealer(settings, tenant)
    await sealer.start()
    try:
        n = await publish_small_session(settings, tenant, "s-held", frames=2)
        n += await publish_small_session(settings, tenant, "s-free", frames=2)
        await sealer.wait_for(n)
        async with context(settings) as ctx:
            hold = await actions.place(ctx, tenant, Target("session", session_id="s-held"),
                                       "Doe v. Acme", "subpoena", "counsel")
            caller = [identifiers.parse("phone_e164", PHONE)]
            created = await service.request_erasure(ctx, tenant, caller, [], "dsar-1", Holds())
            assert created.held == {"s-held": "Doe v. Acme"}
            assert created.sessions == ["s-free"]
            await service.run_request(ctx, created.request_id)

            async def keys() -> dict[str, bool]:
                async with ctx.engine.connect() as conn:
                    return {str(s): bool(k) for s, k in (await conn.execute(text(
                        "SELECT session_id, wrapped_dek IS NOT NULL FROM ledger_sessions "
                        "WHERE tenant_id = :t AND session_id LIKE 's-%'"), {"t": tenant})).all()}
            assert await keys() == {"s-held": True, "s-free": False}
            # the held session's evidence is intact (its batch objects, shared or not)
            assert await raw_object_versions(ctx.engine, ctx.s3, settings.bucket_ledger, tenant,
                                             "s-held")
            async with ctx.engine.connect() as conn:
                refused = (await conn.execute(text(
                    "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t "
                    "AND session_id = '_journal' AND type = 'erasure.refused'"),
                    {"t": tenant})).scalar_one()
            assert refused == 1

            await actions.release(ctx, hold["hold_id"], "settled", "counsel")
            again = await service.request_erasure(ctx, tenant, caller, [], "dsar-1 again",
                                                  Holds())
            assert again.held == {} and again.sessions == ["s-held"]
            await service.run_request(ctx, again.request_id)
            assert await keys() == {"s-held": False, "s-free": False}
    finally:
        await sealer.stop()
        await sealer.close()
