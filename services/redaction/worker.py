"""The redaction worker: a ledger :class:`~services.ledger.follower.Projection` named
``redaction``.

Trigger. The transcript is whole-session work done by another projection (``transcripts``),
which follows the ledger at its own pace: when this worker sees ``session.ended`` the turns may
not be written yet, and late events keep changing them after. So the worker does not redact from
events. Its handler only records facts from the session's ``system`` events (it reads no other
entry of the ledger), in the batch's transaction: consent events (latest per scope, see ``consent.py``) and
``session.ended`` as a ``redaction_sessions`` row expecting ``seq + 1`` frames (seq is gapless
from 0). Its ``maintain`` hook (after each round of batches and on every wake or poll) then polls
for ended sessions whose transcript has caught up (``transcript_sessions.frames`` ≥ expected)
and whose stored redaction is of an older transcript revision, and redacts each in its own
transaction under a row lock (``SKIP LOCKED``: several instances share the work). Compared
with raising until the transcript catches up, this never holds back other sessions' events and
a session whose transcript never completes (a gap) stays pending instead of being redelivered
forever (DESIGN.md law 9).

Cost. A session is redacted once, when it has ended and its transcript has caught up (again
only if late events change the transcript), so the NLP work is proportional to the text; what a
live call costs otherwise is the follower's wakes. So the worker lingers ``linger`` seconds
after a wake (a few sealer batches per read), and ``maintain`` looks only at the sessions this
process saw end and has not redacted yet (primary-key lookups) on a wake, and at every ended
session (a join of all of them, growing with the history) only every ``FULL_POLL_S``: that
finds sessions that ended before a restart and those whose transcript late events changed.

Redaction of a session: every turn in order and every tool call's arguments and result
(``assemble.py``, ``tools.py``), caller turns with the heard text of the agent turn before them
as dialogue context, the call's language detected first (``language.py``: a call not in the
policy's language gets only the language-independent recognizers and, under ``hold``, a reason
that keeps it out of exports), one ``Pseudonyms`` per session keyed from the tenant pepper and
the session id (``<PERSON_1>`` is the same person in every turn, and a rebuild gives the same
labels: law 3). Turns withheld because recording was paused stay withheld (no text). Presidio
runs in a thread. Rows are keyed by turn id + policy hash; a changed policy is applied on command
(``voxledger redact reprocess --tenant T``), which calls :func:`redact_session` with ``force``.

Failures name the session, never its text.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger.follower import ProjectionDefaults
from services.ledger.reader import SealedEvent
from services.platform.keys import KeyProvider, key_provider
from services.platform.settings import Settings
from services.redaction import assemble, language, repository
from services.redaction.consent import consent_events
from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.policy import Pseudonyms, RedactionPolicy
from services.redaction.repository import SourceToolCall, SourceTurn
from services.redaction.results import RedactedTurn

log = logging.getLogger(__name__)
RETRY_AFTER_S = 60.0  # a session whose redaction failed is retried after this, not in a loop
FULL_POLL_S = 10.0  # every ended session is looked at this often (see "Cost" above)
PENDING_FOR_S = 600.0  # a session seen ending is looked at on every wake at most this long


def pseudonym_key(pepper: bytes, session: str) -> bytes:
    """Per-session pseudonym key: stable across rebuilds, unlinkable across sessions."""
    return hmac.new(pepper, b"voxledger/redaction-pseudonyms\0" + session.encode(),
                    hashlib.sha256).digest()


def rows_for(turns: list[SourceTurn], redacted: dict[int, RedactedTurn], detector_version: str,
             model: str) -> list[dict[str, Any]]:
    """Table rows: redacted text and findings as type/span/score only (never values)."""
    rows = []
    for k, t in enumerate(turns):
        r = redacted.get(k)
        rows.append({
            "turn_id": t.turn_id, "ordinal": t.ordinal, "speaker": t.speaker,
            "status": t.status, "start_ms": t.start_ms, "end_ms": t.end_ms,
            "text": r.text if r else None, "withheld": t.withheld,
            "findings": [{"type": f.entity_type, "start": f.start, "end": f.end,
                          "score": f.score} for f in r.findings] if r else [],
            "detector_version": detector_version, "model": model,
        })
    return rows


@dataclass(frozen=True, slots=True)
class Outcome:
    claimed: bool
    redacted: bool = False
    turns: int = 0
    findings: int = 0


@dataclass(frozen=True, slots=True)
class Redaction:
    """What redacting a session writes: turn rows, tool-call rows, the call's language and the
    reason it is held back from exports (if it is)."""

    turns: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    language: str
    held: str | None


async def redact(engine: RedactionEngine, keys: KeyProvider, tenant: str, session: str,
                 policy: RedactionPolicy, turns: list[SourceTurn],
                 calls: list[SourceToolCall]) -> Redaction:
    """Redact a session's transcript (pure but for the pepper: the worker and ``voxledger replay``
    call this same function, so a rebuild from the ledger gives the same rows)."""
    found = language.detect([t.heard_text or "" for t in turns if not t.withheld],
                            default=policy.language)
    held = None
    if found.language != policy.language and policy.other_languages == "hold":
        held = f"language:{found.language}"
    b = assemble.batch(turns, calls)
    pseudonyms = Pseudonyms(pseudonym_key(keys.pepper(tenant), session))
    # English recognizers only on English calls of an English policy; any other call gets the
    # language-independent ones (and, under "hold", stays out of every export).
    english = found.language == policy.language == "en"
    done = await engine.redact_async(b.items, policy, pseudonyms, session=True,
                                     english=english, whole=b.whole)
    rows = rows_for(turns, {k: done[i] for k, i in b.turn_at.items()},
                    engine.detector_version, engine.model_name)
    return Redaction(rows, assemble.call_rows(calls, b, done), found.language, held)


async def redact_session(conn: AsyncConnection, engine: RedactionEngine, keys: KeyProvider,
                         tenant: str, session: str, *, force: bool = False) -> Outcome:
    """Redact one ended session inside ``conn``'s transaction, if due (or ``force``d and the
    stored redaction is of another policy)."""
    claimed = await repository.claim(conn, tenant, session)
    if claimed is None:
        return Outcome(claimed=False)
    policy: RedactionPolicy = await repository.current_policy(conn, tenant)
    fresh = claimed.source_frames == claimed.frames
    if fresh and (not force or claimed.policy_hash == policy.policy_hash):
        return Outcome(claimed=True)
    r = await redact(engine, keys, tenant, session, policy,
                     await repository.load_turns(conn, tenant, session),
                     await repository.load_tool_calls(conn, tenant, session))
    await repository.write_redaction(conn, tenant, session, claimed.frames, policy, r.turns,
                                     language=r.language, held=r.held)
    await repository.write_tool_calls(conn, tenant, session, policy, r.tool_calls)
    return Outcome(True, True, len(r.turns), sum(len(t["findings"]) for t in r.turns))


@dataclass
class Reprocessed:
    redacted: int = 0
    unchanged: int = 0
    pending: int = 0  # transcript not caught up yet, or a worker holds the session right now


async def reprocess(db: AsyncEngine, engine: RedactionEngine, keys: KeyProvider, tenant: str,
                    progress: Callable[[str], None] = lambda _m: None) -> Reprocessed:
    """Re-redact every ended session of the tenant whose redaction is not of the current policy
    and transcript revision (``voxledger redact reprocess``)."""
    async with db.connect() as conn:
        sessions = await repository.tenant_sessions(conn, tenant)
    done = Reprocessed()
    for n, session in enumerate(sessions, start=1):
        async with db.begin() as conn:
            outcome = await redact_session(conn, engine, keys, tenant, session, force=True)
        if outcome.redacted:
            done.redacted += 1
        elif outcome.claimed:
            done.unchanged += 1
        else:
            done.pending += 1
        progress(f"{n}/{len(sessions)} sessions")
    return done


class RedactionWorker(ProjectionDefaults):
    name = "redaction"
    # Only the recorder's own events: consent and session.ended are all this handler reads.
    system_only = True
    # It redacts ended sessions only: each wake costs its queries and transaction, and a
    # redaction a second later matters to no one (0.5 s made ~2 wakes a second under load).
    linger = 2.0

    def __init__(self, engine: RedactionEngine, keys: KeyProvider, *,
                 sessions_per_poll: int = 20, tenant: str | None = None) -> None:
        self.engine = engine
        self.keys = keys
        self.sessions_per_poll = sessions_per_poll
        self.tenant = tenant  # tests confine a private worker to one tenant
        self._failed: dict[tuple[str, str], float] = {}
        self._ended: dict[tuple[str, str], float] = {}  # seen ending here, not redacted yet
        self._full_at = 0.0  # when maintain next looks at every ended session

    def warm_up(self) -> None:
        """Load the NLP model, the recognizers' tables and the language model before
        consuming: loading them on the first session redacted took seconds of CPU in the
        middle of live calls."""
        self.engine.warm_up()
        language.warm_up()
        # ``voxledger run`` then freezes what every consumer loaded out of the cyclic
        # collector's sight (services/runner/main.py ``freeze_after_warm_up``).

    async def handle(self, conn: AsyncConnection, batch: list[SealedEvent]) -> None:
        events = []
        for e in batch:
            env = e.envelope
            events.extend(consent_events(env))
            if env.type == "session.ended":
                await repository.mark_ended(conn, env.tenant_id, env.session_id, env.seq + 1,
                                            env.recorded_at)
                # (a batch rolled back leaves a key whose lookups find nothing, then expires)
                self._ended[(env.tenant_id, env.session_id)] = time.monotonic()
        await repository.record_consent(conn, events)

    async def maintain(self, db: AsyncEngine) -> None:
        now = time.monotonic()
        for key, seen in list(self._ended.items()):
            if now - seen > PENDING_FOR_S:
                del self._ended[key]
        full = now >= self._full_at
        if not full and not self._ended:
            return
        async with db.connect() as conn:
            due = await repository.due_sessions(conn, self.sessions_per_poll, self.tenant,
                                                among=None if full else list(self._ended))
        if full:
            self._full_at = now + FULL_POLL_S
        for key in due:
            if self._failed.get(key, 0.0) > now:
                continue
            try:
                async with db.begin() as conn:
                    outcome = await redact_session(conn, self.engine, self.keys, *key)
                self._failed.pop(key, None)
                if outcome.claimed:
                    self._ended.pop(key, None)
            except Exception as exc:
                self._failed[key] = now + RETRY_AFTER_S
                log.warning("redaction of session %s/%s failed (%s); retrying later", *key,
                            type(exc).__name__)


def make_redaction_worker(settings: Settings) -> RedactionWorker:
    return RedactionWorker(shared_engine(settings.spacy_model, settings.redaction_batch_size),
                           key_provider(settings))
