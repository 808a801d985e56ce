"""Legal holds: by session, by subject (HMAC of the normalised identifier) or a whole tenant.

A hold never expires by itself; only `hold release` ends it. Placing and releasing are each one
transaction with their journal event (``hold.placed`` / ``hold.released``: ids, the subject's
HMAC, matter, reason, who; never an identifier). A subject hold is resolved through
``ledger_subjects`` every time it is checked, so it also covers that subject's sessions recorded
after it was placed; a tenant hold covers every session of the tenant, past and future.

:class:`Holds` is the :class:`~services.platform.forget.HoldChecker` that retention and erasure
consult before forgetting anything (law 6).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger.journal import append_in
from services.ledger.journal_ids import RESERVED_PREFIX
from services.ledger.subjects import normalize
from services.platform.forget import ForgetContext
from services.platform.keys import subject_index
from services.retention.models import LegalHold
from services.retention.policy import ACTOR, ACTOR_RULE, PolicyError, check_tenant

MATTER: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:/#()&,-]{0,127}$")
SESSION_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_REASON: Final = 1000
SUBJECT_KINDS: Final = {"phone": "phone_e164", "email": "email", "customer_id": "customer_id"}


class HoldError(ValueError):
    """A hold that cannot be placed or released; the message says what to do (no PII)."""


@dataclass(frozen=True)
class Target:
    scope: str  # session | subject | tenant
    session_id: str | None = None
    subject_kind: str | None = None  # phone_e164 | email | customer_id
    subject_value: str | None = None  # normalised here, never stored nor logged

    def describe(self) -> str:
        if self.scope == "session":
            return f"session {self.session_id}"
        if self.scope == "subject":
            return f"subject ({self.subject_kind})"
        return "every session of the tenant"


def _check_text(matter: str, reason: str) -> None:
    if not MATTER.match(matter):
        raise HoldError("--matter must be 1-128 characters: letters, digits, space and ._:/#()&,-")
    if not reason.strip() or len(reason) > MAX_REASON or any(ord(c) < 32 for c in reason):
        raise HoldError(f"--reason must be 1-{MAX_REASON} printable characters on one line")


def _check_target(t: Target) -> None:
    if t.scope == "session":
        if not t.session_id or not SESSION_ID.match(t.session_id) or \
                t.session_id.startswith(RESERVED_PREFIX):
            raise HoldError("--session must be a recorded session id ([A-Za-z0-9_-]{1,128})")
    elif t.scope == "subject":
        if t.subject_kind not in SUBJECT_KINDS.values() or not (t.subject_value or "").strip():
            raise HoldError("a subject hold needs a non-empty --phone, --email or --customer-id")
        if len(t.subject_value or "") > 254:
            raise HoldError("the subject identifier is longer than 254 characters")
    elif t.scope != "tenant":
        raise HoldError("give exactly one of --session, --phone, --email, --customer-id, --all")


def _row_json(h: Any) -> dict[str, Any]:
    return {"hold_id": h.hold_id, "tenant": h.tenant_id, "scope": h.scope,
            "session_id": h.session_id, "subject_kind": h.subject_kind,
            "subject_index": h.subject_index, "matter": h.matter, "reason": h.reason,
            "placed_by": h.placed_by, "placed_at": h.placed_at.isoformat(),
            "released_by": h.released_by,
            "released_at": h.released_at.isoformat() if h.released_at else None,
            "release_reason": h.release_reason,
            "active": h.released_at is None}


async def place(ctx: ForgetContext, tenant: str, target: Target, matter: str, reason: str,
                actor: str) -> dict[str, Any]:
    """Record the hold and its ``hold.placed`` event in one transaction; returns the hold."""
    try:
        check_tenant(tenant)
    except PolicyError as exc:
        raise HoldError(str(exc)) from None
    _check_target(target)
    _check_text(matter, reason)
    if not ACTOR.match(actor):
        raise HoldError(ACTOR_RULE)
    index = None
    if target.scope == "subject":
        assert target.subject_kind is not None and target.subject_value is not None
        norm = normalize(target.subject_kind, target.subject_value)
        index = subject_index(ctx.keys.pepper(tenant), norm)
    now = ctx.clock.now()
    hold_id = str(uuid.uuid4())
    values = {"hold_id": hold_id, "tenant_id": tenant, "scope": target.scope,
              "session_id": target.session_id, "subject_kind": target.subject_kind,
              "subject_index": index, "matter": matter, "reason": reason, "placed_by": actor,
              "placed_at": now}
    async with ctx.engine.begin() as conn:
        # Waits for a disposal or erasure batch in progress (see guard), so none of them
        # checked holds before this one and deletes after it.
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                           {"k": _guard_key(tenant)})
        await conn.execute(insert(LegalHold).values(**values))
        body = {k: v for k, v in values.items() if k not in ("tenant_id", "placed_at")}
        ref = await append_in(conn, ctx.settings, ctx.keys, tenant, "hold.placed", body, now=now)
        row = (await conn.execute(select(LegalHold).where(LegalHold.hold_id == hold_id))).one()
    return {**_row_json(row), "journal_position": ref.position}


async def release(ctx: ForgetContext, hold_id: str, reason: str, actor: str) -> dict[str, Any]:
    _check_text("release", reason)
    if not ACTOR.match(actor):
        raise HoldError(ACTOR_RULE)
    now = ctx.clock.now()
    async with ctx.engine.begin() as conn:
        row = (await conn.execute(select(LegalHold).where(LegalHold.hold_id == hold_id)
                                  .with_for_update())).one_or_none()
        if row is None:
            raise HoldError(f"no hold {hold_id!r}; `voxledger hold list` shows the ids")
        if row.released_at is not None:
            raise HoldError(f"hold {hold_id} was already released at {row.released_at:%Y-%m-%d}")
        await conn.execute(update(LegalHold).where(LegalHold.hold_id == hold_id).values(
            released_by=actor, released_at=now, release_reason=reason))
        ref = await append_in(conn, ctx.settings, ctx.keys, row.tenant_id, "hold.released",
                              {"hold_id": hold_id, "matter": row.matter, "reason": reason,
                               "released_by": actor}, now=now)
        row = (await conn.execute(select(LegalHold).where(LegalHold.hold_id == hold_id)
                                  )).one()
    return {**_row_json(row), "journal_position": ref.position}


async def list_holds(conn: AsyncConnection, tenant: str | None = None,
                     active_only: bool = False) -> list[dict[str, Any]]:
    q = select(LegalHold).order_by(LegalHold.placed_at, LegalHold.hold_id)
    if tenant:
        q = q.where(LegalHold.tenant_id == tenant)
    if active_only:
        q = q.where(LegalHold.released_at.is_(None))
    return [_row_json(r) for r in (await conn.execute(q)).all()]


# One query for "which of these sessions are held, by which matters": session holds, subject
# holds joined through the HMAC index, and tenant holds (every non-reserved session).
_HELD = text("""
    SELECT s.session_id, h.matter
      FROM unnest(CAST(:ids AS text[])) AS s(session_id)
      JOIN legal_holds h ON h.tenant_id = :t AND h.released_at IS NULL
     WHERE h.scope = 'tenant'
        OR (h.scope = 'session' AND h.session_id = s.session_id)
        OR (h.scope = 'subject' AND EXISTS (
              SELECT 1 FROM ledger_subjects ls
               WHERE ls.tenant_id = :t AND ls.session_id = s.session_id
                 AND ls.subject_index = h.subject_index))
""")

# Every session a tenant's active holds cover now (for the S3 lock sync).
_ALL_HELD = text("""
    SELECT h.session_id AS session_id FROM legal_holds h
     WHERE h.tenant_id = :t AND h.released_at IS NULL AND h.scope = 'session'
    UNION
    SELECT ls.session_id FROM legal_holds h JOIN ledger_subjects ls
        ON ls.tenant_id = h.tenant_id AND ls.subject_index = h.subject_index
     WHERE h.tenant_id = :t AND h.released_at IS NULL AND h.scope = 'subject'
    UNION
    SELECT s.session_id FROM ledger_sessions s
     WHERE s.tenant_id = :t AND left(s.session_id, 1) <> '_' AND EXISTS (
           SELECT 1 FROM legal_holds h WHERE h.tenant_id = :t AND h.released_at IS NULL
              AND h.scope = 'tenant')
""")


async def held_in(conn: AsyncConnection, tenant: str, session_ids: tuple[str, ...]
                  ) -> dict[str, str]:
    if not session_ids:
        return {}
    matters: dict[str, set[str]] = {}
    for row in await conn.execute(_HELD, {"t": tenant, "ids": list(session_ids)}):
        matters.setdefault(str(row[0]), set()).add(str(row[1]))
    return {s: ", ".join(sorted(m)) for s, m in matters.items()}


_HOLDS_ON = text("""
    SELECT h.hold_id, h.scope, h.matter, h.reason, h.placed_by, h.placed_at FROM legal_holds h
     WHERE h.tenant_id = :t AND h.released_at IS NULL
       AND (h.scope = 'tenant'
            OR (h.scope = 'session' AND h.session_id = :s)
            OR (h.scope = 'subject' AND EXISTS (
                  SELECT 1 FROM ledger_subjects ls
                   WHERE ls.tenant_id = :t AND ls.session_id = :s
                     AND ls.subject_index = h.subject_index)))
     ORDER BY h.placed_at, h.hold_id
""")


async def holds_on(conn: AsyncConnection, tenant: str, session: str) -> list[dict[str, Any]]:
    """The active holds covering one session (an evidence bundle records them): id, scope,
    matter, reason, who placed it and when. Subject holds name no subject value."""
    return [{"hold_id": r.hold_id, "scope": r.scope, "matter": r.matter, "reason": r.reason,
             "placed_by": r.placed_by, "placed_at": r.placed_at.isoformat()}
            for r in await conn.execute(_HOLDS_ON, {"t": tenant, "s": session})]


async def all_held(conn: AsyncConnection, tenant: str) -> set[str]:
    return {str(r[0]) for r in await conn.execute(_ALL_HELD, {"t": tenant})}


async def sessions_of(conn: AsyncConnection, tenant: str, hold_id: str) -> list[str]:
    """Sessions one hold covers now (reports; a subject hold may grow)."""
    row = (await conn.execute(select(LegalHold).where(LegalHold.hold_id == hold_id))).one()
    if row.scope == "session":
        q = text("SELECT session_id FROM ledger_sessions WHERE tenant_id = :t AND session_id = :s")
        return [str(r[0]) for r in await conn.execute(q, {"t": tenant, "s": row.session_id})]
    if row.scope == "subject":
        q = text("SELECT session_id FROM ledger_subjects WHERE tenant_id = :t "
                 "AND subject_index = :i ORDER BY session_id")
        return [str(r[0]) for r in await conn.execute(q, {"t": tenant, "i": row.subject_index})]
    q = text("SELECT session_id FROM ledger_sessions WHERE tenant_id = :t "
             "AND left(session_id, 1) <> '_' ORDER BY session_id")
    return [str(r[0]) for r in await conn.execute(q, {"t": tenant})]


def _guard_key(tenant: str) -> str:
    return f"voxledger-hold:{tenant}"


@asynccontextmanager
async def guard(ctx: ForgetContext, tenant: str) -> AsyncIterator[None]:
    """Hold placement for ``tenant`` waits while this block runs: check holds, then forget,
    inside it, and a hold placed meanwhile cannot slip between the check and the deletion.
    A session-level advisory lock on a connection of its own (a killed process releases it)."""
    async with ctx.engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": _guard_key(tenant)})
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"),
                               {"k": _guard_key(tenant)})
            await conn.commit()


class Holds:
    """The legal-hold checker (``services.platform.forget.HoldChecker``)."""

    async def held(self, ctx: ForgetContext, tenant_id: str,
                   session_ids: tuple[str, ...]) -> dict[str, str]:
        async with ctx.engine.connect() as conn:
            return await held_in(conn, tenant_id, session_ids)
