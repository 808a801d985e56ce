"""An in-memory twin of the ledger's read port for a session's sealed events (benches and tests
that hand events straight to a projection): what was delivered, in delivery order."""

from __future__ import annotations

from typing import Any

from schemas.envelope import Envelope
from services.ledger.reader import AudioMode, SealedEvent


class MemoryLedger:
    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str], list[SealedEvent]] = {}
        self._next: dict[str, int] = {}
        self._by_id: dict[str, SealedEvent] = {}
        self.reads = 0  # sessions read back (a builder whose copy was not trusted)

    def seal(self, envs: list[Envelope]) -> list[SealedEvent]:
        """Append ``envs`` (positions per tenant, as the sealer assigns them); an event id
        already sealed is not appended again (the sealer's dedupe) and comes back as sealed."""
        out = []
        for env in envs:
            if env.event_id in self._by_id:
                out.append(self._by_id[env.event_id])
                continue
            pos = self._next.get(env.tenant_id, 0)
            self._next[env.tenant_id] = pos + 1
            kind = env.kind
            e = SealedEvent(env.tenant_id, pos, env.session_id, pos,
                            f"voice.{env.tenant_id}.{env.session_id}.{kind}", env, None, ())
            self._sessions.setdefault((env.tenant_id, env.session_id), []).append(e)
            self._by_id[env.event_id] = e
            out.append(e)
        return out

    async def session_events(self, conn: Any, tenant: str, session: str, *,
                             audio: AudioMode = "lengths") -> list[SealedEvent] | None:
        self.reads += 1
        return list(self._sessions.get((tenant, session), []))
