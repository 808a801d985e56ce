"""The simulator against the real NATS: JetStream holds exactly the events it reports."""

from __future__ import annotations

from collections import Counter

import pytest

from schemas.batch import is_batch_subject, split_batch
from schemas.envelope import decode_envelope
from services.platform.nats import connect
from services.platform.settings import Settings
from services.simulator import simulate
from services.simulator.providers import PROFILES

pytestmark = pytest.mark.integration


async def _stored(settings: Settings, tenant: str, session_id: str) -> dict[str, int]:
    """Events per kind the stream holds for the session (batch members counted one by one)."""
    nc = await connect(settings, name="test-simulator")
    try:
        js = nc.jetstream()
        subject = f"{settings.subject_prefix}.{tenant}.{session_id}.>"
        info = await js.stream_info(settings.stream_name, subjects_filter=subject)
        total = sum((info.state.subjects or {}).values())
        sub = await js.subscribe(subject, ordered_consumer=True)
        kinds: Counter[str] = Counter()
        for _ in range(total):
            msg = await sub.next_msg(timeout=10)
            datas = split_batch(msg.data, msg.headers) if is_batch_subject(msg.subject) else \
                [msg.data]
            kinds.update(decode_envelope(d).kind for d in datas)
        await sub.unsubscribe()
        return dict(kinds)
    finally:
        await nc.close()


@pytest.mark.parametrize("provider", list(PROFILES))
async def test_every_event_reaches_the_stream(settings: Settings, tenant: str,
                                              provider: str) -> None:
    [session] = await simulate(settings, provider, sessions=1, seed=42, tenant=tenant)
    assert session.tenant_id == tenant and session.session_id == f"sim-{provider}-42-0"
    kinds = await _stored(settings, tenant, session.session_id)
    assert sum(kinds.values()) == session.events
    assert kinds["system"] == 2 + 5  # started, ended, 3 consents, pause, resume
    assert kinds["audio"] > kinds["event"] / 2
    assert session.script.turns and session.script.tool_calls


async def test_two_sessions_of_all_providers_are_distinct(settings: Settings, tenant: str) -> None:
    sessions = await simulate(settings, "all", sessions=2, seed=7, tenant=tenant)
    assert len({s.session_id for s in sessions}) == 2 * len(PROFILES)
    for s in sessions:
        assert sum((await _stored(settings, tenant, s.session_id)).values()) == s.events
