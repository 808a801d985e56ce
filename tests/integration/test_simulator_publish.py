"""The simulator against the real NATS: JetStream holds exactly the events it reports."""

from __future__ import annotations

import pytest

from services.platform.settings import Settings
from services.simulator import simulate
from services.simulator.providers import PROFILES
from tests.integration.stream_helpers import stored_kinds

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("provider", list(PROFILES))
async def test_every_event_reaches_the_stream(settings: Settings, tenant: str,
                                              provider: str) -> None:
    [session] = await simulate(settings, provider, sessions=1, seed=42, tenant=tenant)
    assert session.tenant_id == tenant and session.session_id == f"sim-{provider}-42-0"
    kinds = await stored_kinds(settings, tenant, session.session_id)
    assert sum(kinds.values()) == session.events
    assert kinds["system"] == 2 + 5  # started, ended, 3 consents, pause, resume
    assert kinds["audio"] > kinds["event"] / 2
    assert session.script.turns and session.script.tool_calls


async def test_two_sessions_of_all_providers_are_distinct(settings: Settings, tenant: str) -> None:
    sessions = await simulate(settings, "all", sessions=2, seed=7, tenant=tenant)
    assert len({s.session_id for s in sessions}) == 2 * len(PROFILES)
    for s in sessions:
        assert sum((await stored_kinds(settings, tenant, s.session_id)).values()) == s.events
