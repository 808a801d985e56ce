"""Consent as the export sees it. Pure logic, no I/O.

Consent comes from system events: ``session.started`` carries an initial map (scope → state) and
``consent.granted|declined|revoked`` change one scope. Per scope the latest event wins, ordered by
(recorded_at, seq); a revocation recorded after a grant therefore excludes the session from every
later export. A session covers training only when its latest training state is ``granted``: no
information, ``unknown``, ``declined`` or ``revoked`` all exclude it (the safe default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from schemas.envelope import Envelope
from schemas.system_events import ConsentScope, ConsentState

_CHANGES = {
    "consent.granted": ConsentState.GRANTED,
    "consent.declined": ConsentState.DECLINED,
    "consent.revoked": ConsentState.REVOKED,
}


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    tenant_id: str
    session_id: str
    scope: ConsentScope
    state: ConsentState
    event_id: str
    seq: int
    recorded_at: datetime

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.recorded_at, self.seq)


def consent_events(env: Envelope) -> list[ConsentEvent]:
    """The consent facts one system envelope states (none for other events or bad payloads).

    A malformed consent payload yields nothing rather than an error: consent that cannot be read
    is no consent, and the pipeline carries on (DESIGN.md law 9)."""
    def event(scope: object, state: ConsentState) -> ConsentEvent | None:
        try:
            parsed = ConsentScope(str(scope))
        except ValueError:
            return None
        return ConsentEvent(env.tenant_id, env.session_id, parsed, state, str(env.event_id),
                            env.seq, env.recorded_at)

    found: list[ConsentEvent | None] = []
    if env.type in _CHANGES:
        found.append(event(env.payload.get("scope"), _CHANGES[env.type]))
    elif env.type == "session.started":
        initial = env.payload.get("consent")
        if isinstance(initial, dict):
            for scope, raw in initial.items():
                try:
                    state = ConsentState(str(raw))
                except ValueError:
                    continue
                if state is not ConsentState.UNKNOWN:  # "unknown" states nothing
                    found.append(event(scope, state))
    return [e for e in found if e is not None]


def latest(events: list[ConsentEvent]) -> dict[ConsentScope, ConsentState]:
    """Per scope, the state of the latest event."""
    best: dict[ConsentScope, ConsentEvent] = {}
    for e in events:
        if e.scope not in best or e.order > best[e.scope].order:
            best[e.scope] = e
    return {scope: e.state for scope, e in best.items()}


def covers_training(states: Mapping[ConsentScope, ConsentState]) -> bool:
    return states.get(ConsentScope.TRAINING) is ConsentState.GRANTED
