"""The redaction worker against real NATS and Postgres: it waits for the transcript, redacts every
heard turn with dialogue context and session pseudonyms, keeps paused turns withheld, is
idempotent, and re-runs on command after a policy change."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.platform.db import make_async_engine
from services.platform.keys import LocalKeyProvider
from services.platform.settings import Settings
from services.redaction import repository
from services.redaction.engine import shared_engine
from services.redaction.models import RedactedTurnRow, RedactionSession
from services.redaction.policy import RedactionPolicy
from services.redaction.worker import redact_session, reprocess
from services.simulator import simulate
from services.simulator.script import build_script
from services.transcripts.models import TranscriptTurn
from tests.integration.consumers import running, wait_for
from tests.integration.redaction_helpers import (
    counts,
    leaks,
    redaction_for,
    transcripts_for,
)

pytestmark = pytest.mark.integration
R = RedactedTurnRow


async def test_worker_waits_for_the_transcript_then_redacts(
        settings: Settings, tenant: str, sync_engine: Engine) -> None:
    [sim] = await simulate(settings, "openai", sessions=1, seed=random.randrange(1, 10**6),
                           tenant=tenant)
    seen = counts(sync_engine, tenant)
    async with running(settings, redaction_for(settings, tenant)) as worker:
        # Without a transcript the ended session is recorded and left pending, not redacted.
        async def ended_seen() -> bool:
            return worker.stats.delivered > 0 and (await seen())[0] == 1
        await wait_for(ended_seen)
        await worker.handler.maintain(worker.engine)  # type: ignore[attr-defined]
        assert await seen() == (1, 0)
        async with running(settings, transcripts_for(settings, tenant)):
            async def redacted() -> bool:
                return await seen() == (1, 1)
            await wait_for(redacted)

    script = build_script(sim.seed)
    with Session(sync_engine) as orm:
        source = orm.scalars(select(TranscriptTurn).where(
            TranscriptTurn.tenant_id == tenant).order_by(TranscriptTurn.ordinal)).all()
        rows = orm.scalars(select(R).where(R.tenant_id == tenant).order_by(R.ordinal)).all()
        state = orm.scalars(select(RedactionSession).where(
            RedactionSession.tenant_id == tenant)).one()
    assert [r.turn_id for r in rows] == [t.turn_id for t in source]
    assert {r.policy_hash for r in rows} == {RedactionPolicy().policy_hash}
    assert all(r.model == settings.spacy_model and r.detector_version.startswith("voxledger")
               for r in rows)
    withheld = [r for r in rows if r.withheld]
    assert withheld and all(r.text is None and r.findings == [] for r in withheld)
    assert {r.turn_id for r in withheld} == {t.turn_id for t in source if t.withheld}
    for r in rows:
        assert not leaks(r.text or "", script), (r.turn_id, leaks(r.text or "", script))
        assert all(set(f) == {"type", "start", "end", "score"} for f in r.findings)
    caller_text = " ".join(r.text or "" for r in rows if r.speaker == "caller")
    assert "<PERSON_" in caller_text and "<PHONE_NUMBER>" in caller_text
    assert state.turns == len(rows) and state.findings == sum(len(r.findings) for r in rows)

    # Idempotent: nothing is due; a forced run under the same policy changes nothing.
    db = make_async_engine(settings)
    engine = shared_engine(settings.spacy_model, settings.redaction_batch_size)
    keys = LocalKeyProvider.from_file(settings.keyring_path)
    try:
        async with db.begin() as conn:
            again = await redact_session(conn, engine, keys, tenant, sim.session_id, force=True)
        assert (again.claimed, again.redacted) == (True, False)

        # A new policy version applies on command, replacing the rows of the old policy.
        v2 = RedactionPolicy(version=2, tenant_id=tenant, operators={"PERSON": "placeholder"})
        async with db.begin() as conn:
            await repository.set_policy(conn, tenant, v2)
        done = await reprocess(db, engine, keys, tenant)
        assert (done.redacted, done.unchanged, done.pending) == (1, 0, 0)
        assert (await reprocess(db, engine, keys, tenant)).unchanged == 1
    finally:
        await db.dispose()
    with Session(sync_engine) as orm:
        after = orm.scalars(select(R).where(R.tenant_id == tenant).order_by(R.ordinal)).all()
    assert {r.policy_hash for r in after} == {v2.policy_hash}
    assert {r.policy_version for r in after} == {2}
    assert [r.turn_id for r in after] == [r.turn_id for r in rows]
    text = " ".join(r.text or "" for r in after)
    assert "<PERSON>" in text and "<PERSON_" not in text
