"""One-use tickets for a recording the API has just served to a signed-in reviewer.

Listening is one read: the console asks the API for the recording once (sealed as
``access.audio`` with the reviewer's reason), computes the waveform from it, and keeps the bytes
under a random ticket until the same token fetches them, once, within ``TTL_S``. The browser
then plays them from memory, so seeking is exact and costs no further reads. Bounded in count
and bytes: the oldest tickets go first.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

TTL_S: Final = 120.0
MAX_TICKETS: Final = 16
MAX_BYTES: Final = 512 * 1024 * 1024


@dataclass(frozen=True)
class _Held:
    token_id: str
    session: str
    body: bytes
    expires: float


class Tickets:
    def __init__(self, ttl_s: float = TTL_S, max_tickets: int = MAX_TICKETS,
                 max_bytes: int = MAX_BYTES) -> None:
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self.ttl_s, self.max_tickets, self.max_bytes = ttl_s, max_tickets, max_bytes

    def put(self, token_id: str, session: str, body: bytes) -> str:
        self._expire()
        ticket = secrets.token_urlsafe(24)
        self._held[ticket] = _Held(token_id, session, body, time.monotonic() + self.ttl_s)
        while len(self._held) > self.max_tickets or self._bytes() > self.max_bytes:
            self._held.popitem(last=False)
        return ticket

    def take(self, ticket: str, token_id: str) -> _Held | None:
        """The bytes of ``ticket`` if this token holds it and it is fresh; it is then gone."""
        self._expire()
        held = self._held.get(ticket)
        if held is None or not secrets.compare_digest(held.token_id, token_id):
            return None
        del self._held[ticket]
        return held

    def _bytes(self) -> int:
        return sum(len(h.body) for h in self._held.values())

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, h in self._held.items() if h.expires <= now]:
            del self._held[key]
