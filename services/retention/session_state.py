"""Session state as SQL conditions, for lists and searches: held (an active legal hold covers the
session: by session, by one of its subjects, or the whole tenant) and erased (its data key is
destroyed, by an erasure request or a retention disposal: nothing of its content is readable).

``tenant`` and ``session`` are the columns of the caller's row, so one correlated ``EXISTS`` per
condition joins any table that has both (catalog sessions, transcript sessions).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select

from services.ledger.models import LedgerSession, LedgerSubject
from services.retention.models import LegalHold


def held(tenant: Any, session: Any) -> ColumnElement[bool]:
    h, s = LegalHold, LedgerSubject
    by_subject = exists(select(s.session_id).where(
        s.tenant_id == tenant, s.session_id == session, s.subject_index == h.subject_index
    ).correlate_except(s))
    return exists(select(h.hold_id).where(
        h.tenant_id == tenant, h.released_at.is_(None),
        or_(h.scope == "tenant", and_(h.scope == "session", h.session_id == session),
            and_(h.scope == "subject", by_subject))).correlate_except(h))


def erased(tenant: Any, session: Any) -> ColumnElement[bool]:
    k = LedgerSession
    return exists(select(k.session_id).where(k.tenant_id == tenant, k.session_id == session,
                                             k.wrapped_dek.is_(None)).correlate_except(k))


def where_state(stmt: Any, tenant: Any, session: Any, *, is_held: bool | None,
                is_erased: bool | None) -> Any:
    """``stmt`` narrowed to rows whose session is (True) or is not (False) held / erased."""
    if is_held is not None:
        cond = held(tenant, session)
        stmt = stmt.where(cond if is_held else ~cond)
    if is_erased is not None:
        cond = erased(tenant, session)
        stmt = stmt.where(cond if is_erased else ~cond)
    return stmt
