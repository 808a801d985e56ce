"""The raw stream is a buffer, not a store (DESIGN.md "Flow"): purge sealed, ended sessions.

JetStream keeps every frame for ``max_age`` (7 days) unless told otherwise, in clear, long after
the ledger holds it encrypted. Once a session's ``session.ended`` is sealed, the sealer's
``maintain`` asks :class:`StreamBuffer` to purge that session's subjects (``voice.T.S.>``) from
the stream, but only when no durable consumer whose filter matches them still needs any of its
messages: every such consumer's ack floor must be at or past the session's last sealed stream
sequence. The consumers the pipeline runs on the stream (``stream_purge_consumers``: the sealer
alone, since every projection follows the sealed ledger instead) must also exist: one not started
yet has no ack floor to hold the purge back, and purging then lost its input for good. It also
waits ``stream_purge_grace_s`` after the end was sealed, so a raw-stream consumer created just
after still finds the frames. A consumer that is behind, stopped, stuck or missing holds the
purge back (never loses data for it); ``max_age`` stays the safety bound for sessions that never
end. A frame of the session that arrives after the purge (a spool drained late) is a new message:
sealed, then purged by a later sweep.

Errors: NATS or Postgres failures propagate to the sealer, which logs them and sweeps again at
its next maintain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.batch import BATCH_KIND
from schemas.envelope import SUBJECT_KINDS
from services.platform.settings import Settings

log = logging.getLogger(__name__)

_DUE = text("""
SELECT s.tenant_id, s.session_id,
       (SELECT max(e.stream_seq) FROM ledger_entries e
         WHERE e.tenant_id = s.tenant_id AND e.session_id = s.session_id) AS last_stream_seq
FROM ledger_sessions s
WHERE s.ended AND s.purged_at IS NULL AND s.session_id NOT LIKE '\\_%'
  AND s.updated_at < now() - make_interval(secs => :grace)
ORDER BY s.updated_at LIMIT :limit
""")
_MARK = text("UPDATE ledger_sessions SET purged_at = now() "
             "WHERE tenant_id = :tenant AND session_id = :session")


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` one or more."""
    p, s = pattern.split("."), subject.split(".")
    for i, tok in enumerate(p):
        if tok == ">":
            return len(s) > i
        if i >= len(s) or (tok != "*" and tok != s[i]):
            return False
    return len(p) == len(s)


# The last token of every stream subject: a single frame's kind (envelope.kind) or a batch.
KINDS = (*SUBJECT_KINDS, BATCH_KIND)


def filters_overlap(filters: list[str], prefix: str, tenant: str, session: str) -> bool:
    """Could a consumer with these filters see a message of the session?"""
    return not filters or any(subject_matches(f, f"{prefix}.{tenant}.{session}.{k}")
                              for f in filters for k in KINDS)


@dataclass(frozen=True)
class Floor:
    name: str
    filters: list[str]
    ack_floor: int


def floors(infos: list[Any]) -> list[Floor]:
    out = []
    for info in infos:
        cfg = info.config
        filters = list(cfg.filter_subjects or ([cfg.filter_subject] if cfg.filter_subject else []))
        out.append(Floor(info.name, filters, int(info.ack_floor.stream_seq or 0)))
    return out


def blocking(consumers: list[Floor], prefix: str, tenant: str, session: str,
             last_stream_seq: int) -> list[str]:
    """Consumers that may still need a message of the session (purging would lose it for them)."""
    return [c.name for c in consumers if c.ack_floor < last_stream_seq
            and filters_overlap(c.filters, prefix, tenant, session)]


def absent(required: list[str], consumers: list[Floor]) -> list[str]:
    """The required consumers that do not exist yet: each holds every purge back."""
    return sorted(set(required) - {c.name for c in consumers})


class StreamBuffer:
    def __init__(self, settings: Settings, js: Any, batch: int = 200) -> None:
        self.settings, self.js, self.batch = settings, js, batch
        self.purged = 0
        self._missing: list[str] = []

    async def sweep(self, engine: AsyncEngine) -> int:
        """Purge every ended, sealed session no consumer still needs; returns how many."""
        async with engine.connect() as conn:
            due = (await conn.execute(_DUE, {"limit": self.batch,
                                             "grace": self.settings.stream_purge_grace_s})).all()
        if not due:
            return 0
        consumers = floors(await self.js.consumers_info(self.settings.stream_name))
        missing = absent(self.settings.stream_purge_consumers, consumers)
        if missing:
            if missing != self._missing:  # said once per change, not every sweep
                log.info("stream buffer: purge waits for consumer(s) %s to exist",
                         ", ".join(missing))
            self._missing = missing
            return 0
        self._missing = []
        done = 0
        for tenant, session, last in due:
            prefix = self.settings.subject_prefix
            if last is not None and blocking(consumers, prefix, tenant, session, int(last)):
                continue
            subject = f"{prefix}.{tenant}.{session}.>"
            await self.js.purge_stream(self.settings.stream_name, subject=subject)
            async with engine.begin() as conn:
                await conn.execute(_MARK, {"tenant": tenant, "session": session})
            done += 1
        self.purged += done
        if done:
            log.info("stream buffer: purged %d sealed session(s) from %s", done,
                     self.settings.stream_name)
        return done
