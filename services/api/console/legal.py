"""Legal holds and erasure requests as the console's pages show them (pure: API JSON in).

Nothing here decides anything: what a hold covers and why an erasure was refused are the
API's answers; these functions only pick the words a page prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

# The identifiers an erasure request may name, as the API's body keys (one per request here).
ERASURE_KINDS: Final = (("phone_e164", "Phone number"), ("email", "Email address"),
                        ("customer_id", "Customer id"), ("session_id", "Session id"))
SUBJECT_WORDS: Final = {"phone_e164": "phone number", "email": "email address",
                        "customer_id": "customer id"}
CLOSED: Final = frozenset({"completed", "refused", "failed"})
# What a hold placed from the hold list covers: one caller (by an identifier) or the tenant.
HOLD_COVERS: Final = (("phone_e164", "a caller, by phone number"),
                      ("email", "a caller, by email address"),
                      ("customer_id", "a caller, by customer id"),
                      ("all", "the whole tenant, now and later"))


@dataclass(frozen=True)
class HoldRow:
    hold_id: str
    matter: str
    covers: str  # what the hold covers, in words (never an identifier: the API sends none)
    session_id: str | None
    reason: str
    placed_by: str
    placed_at: str
    active: bool
    released: str | None  # "at, by: reason" of a released hold


def _stamp(value: Any) -> str:
    return str(value or "")[:19].replace("T", " ")


def hold_row(h: dict[str, Any]) -> HoldRow:
    scope = h.get("scope")
    if scope == "session":
        covers = f"session {h.get('session_id')}"
    elif scope == "subject":
        by = SUBJECT_WORDS.get(h.get("subject_kind") or "", "identifier")
        covers = f"every call of one caller (by {by})"
    else:
        covers = "every call of the tenant"
    released = None
    if not h.get("active", True):
        released = (f"{_stamp(h.get('released_at'))} by {h.get('released_by') or '?'}: "
                    f"{h.get('release_reason') or '—'}")
    return HoldRow(hold_id=str(h["hold_id"]), matter=str(h.get("matter") or ""), covers=covers,
                   session_id=h.get("session_id") if scope == "session" else None,
                   reason=str(h.get("reason") or ""), placed_by=str(h.get("placed_by") or ""),
                   placed_at=_stamp(h.get("placed_at")), active=bool(h.get("active", True)),
                   released=released)


@dataclass(frozen=True)
class ErasureRow:
    request_id: str
    status: str
    received_at: str
    due_at: str
    overdue: bool
    sessions: int | None
    refusal: str | None  # the API's refusal text (it names the matters of the holds)
    closed: bool


def erasure_row(r: dict[str, Any]) -> ErasureRow:
    sessions = r.get("sessions")
    count = len(sessions) if isinstance(sessions, list) else (
        sessions if isinstance(sessions, int) else None)
    refusal = r.get("refused")  # only in one request's status, not in the list
    return ErasureRow(request_id=str(r["request_id"]), status=str(r.get("status") or "?"),
                      received_at=_stamp(r.get("received_at")), due_at=_stamp(r.get("due_at"))[:10],
                      overdue=bool(r.get("overdue")), sessions=count,
                      refusal=str(refusal) if refusal else None,
                      closed=str(r.get("status")) in CLOSED)


def erasure_body(kind: str, value: str) -> dict[str, str] | None:
    """The API's request body for one identifier; None for an unknown kind or an empty value."""
    value = value.strip()
    if kind not in dict(ERASURE_KINDS) or not value:
        return None
    return {kind: value}


def hold_target(covers: str, value: str) -> dict[str, Any] | None:
    """The API's hold target for the hold list's form; None when incomplete."""
    if covers == "all":
        return {"all": True}
    value = value.strip()
    if covers not in SUBJECT_WORDS or not value:
        return None
    return {"subject": {"kind": covers, "value": value}}
