"""The journal: control events sealed into a tenant's ledger beside the calls, provable, gapless."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import uuid_utils
from sqlalchemy import text

from schemas.envelope import Direction, Envelope, Provider, encode_envelope, subject_for
from services.ledger.checkpoint import origin_for
from services.ledger.journal import JournalError, append, checkpoint_covering, wait_for_checkpoint
from services.ledger.journal_ids import JOURNAL_SESSION
from services.ledger.payloads import open_payload
from services.ledger.sealing import payload_aad
from services.platform.nats import connect
from services.platform.settings import Settings
from tests.integration.ledger_helpers import TenantSealer, publish_small_session

pytestmark = pytest.mark.integration


async def test_journal_interleaves_with_calls_and_verifies(settings: Settings, tenant: str,
                                                           session_id: str) -> None:
    sealer = TenantSealer(settings, tenant)
    try:
        first = await append(sealer.engine, settings, sealer.keys, tenant, "hold.placed",
                             {"hold_id": "h-1", "matter": "M-1"})
        assert (first.position, first.seq, first.session_id) == (0, 0, JOURNAL_SESSION)
        published = await publish_small_session(settings, tenant, session_id, frames=3)
        await sealer.start()
        try:
            await sealer.wait_for(published + 1)
            second = await append(sealer.engine, settings, sealer.keys, tenant,
                                  "erasure.requested", {"request_id": "r-1", "sessions": 1})
            assert (second.position, second.seq) == (published + 1, 1)
            # The running sealer's maintain() signs a checkpoint that covers the journal entry.
            size, note = await wait_for_checkpoint(sealer.engine, second, timeout_s=120)
            assert size > second.position and note.startswith(origin_for(tenant) + "\n")
        finally:
            await sealer.stop()
        async with sealer.engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT e.payload_ct, s.wrapped_dek FROM ledger_entries e JOIN ledger_sessions s "
                "USING (tenant_id, session_id) WHERE e.tenant_id = :t AND e.position = :p"),
                {"t": tenant, "p": second.position})).one()
            assert await checkpoint_covering(conn, tenant, second.position) is not None
        dek = sealer.keys.unwrap_dek(tenant, row.wrapped_dek, JOURNAL_SESSION)
        body = json.loads(open_payload(dek, row.payload_ct,
                                  payload_aad(tenant, JOURNAL_SESSION, second.event_id)))
        assert body == {"request_id": "r-1", "sessions": 1}
        report = await sealer.verify()
        assert report.ok, [str(e) for e in report.errors]
        assert report.entries == published + 2
        assert not [w for w in report.warnings if w.session == JOURNAL_SESSION]
    finally:
        await sealer.close()


async def test_journal_refuses_unknown_types_and_nul(settings: Settings, tenant: str) -> None:
    sealer = TenantSealer(settings, tenant)
    try:
        with pytest.raises(JournalError, match="control namespace"):
            await append(sealer.engine, settings, sealer.keys, tenant, "session.started", {})
        with pytest.raises(JournalError, match="NUL"):
            await append(sealer.engine, settings, sealer.keys, tenant, "hold.placed",
                         {"reason": "a\x00b"})
        async with sealer.engine.connect() as conn:
            n = (await conn.execute(text("SELECT count(*) FROM ledger_entries WHERE tenant_id = :t"),
                                    {"t": tenant})).scalar_one()
        assert n == 0
    finally:
        await sealer.close()


async def test_a_gateway_cannot_write_into_the_journal(settings: Settings, tenant: str,
                                                       session_id: str) -> None:
    """A raw frame claiming the reserved journal session is dead-lettered, never sealed."""
    forged = Envelope(event_id=str(uuid_utils.uuid7()), tenant_id=tenant,
                      session_id=JOURNAL_SESSION, seq=0, provider=Provider.CUSTOM,
                      direction=Direction.SYSTEM, type="erasure.completed",
                      recorded_at=datetime.now(UTC), mono_ns=0, payload={"request_id": "fake"})
    nc = await connect(settings, name="test-forger")
    try:
        await nc.jetstream().publish(subject_for(forged, settings.subject_prefix),
                                     encode_envelope(forged),
                                     headers={"Nats-Msg-Id": forged.event_id})
    finally:
        await nc.close()
    published = await publish_small_session(settings, tenant, session_id, frames=2)
    sealer = TenantSealer(settings, tenant)
    try:
        await sealer.start()
        try:
            await sealer.wait_for(published)
        finally:
            await sealer.stop()
        async with sealer.engine.connect() as conn:
            sealed = (await conn.execute(text(
                "SELECT count(*) FROM ledger_entries WHERE tenant_id = :t AND session_id = :s"),
                {"t": tenant, "s": JOURNAL_SESSION})).scalar_one()
            reasons = (await conn.execute(text(
                "SELECT reason FROM dead_letters WHERE subject = :subj"),
                {"subj": subject_for(forged, settings.subject_prefix)})).scalars().all()
        assert sealed == 0
        assert any("reserved session id" in r for r in reasons), reasons
    finally:
        await sealer.close()
