"""The access log (DESIGN law 8): every read of recorded content is sealed first.

:func:`record` seals an ``access.*`` control event into the tenant's ledger through the journal
and returns only once it is committed; a route calls it after it has gathered the content and
before it returns any of it. If sealing fails the route answers 503 and returns nothing.

Bodies carry who (token name and id, role), what (route, session ids, view, track, range), why
(the staff-written reason), when, and the result; never any content. A reason is 3-500
characters with a visible one, no NUL or other control characters (``params.REASON_PATTERN``,
checked again here): it goes into the ledger verbatim.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any, Final

from services.api.problems import ApiProblem, bad_request

__all__ = ["bad_request", "check_reason", "record"]
from services.api.state import ApiState
from services.api.tokens import Principal

log = logging.getLogger(__name__)
REASON_MIN: Final = 3
REASON_MAX: Final = 500


def check_reason(reason: str | None, what: str) -> str:
    """The reason, stripped; 422 when it is missing, too short or long, or has control chars."""
    if reason is None or not reason.strip():
        raise bad_request(f"reason: {what} needs a reason (`reason=...`, {REASON_MIN}-"
                          f"{REASON_MAX} characters); it is sealed in the access log")
    text = reason.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise bad_request(f"reason: must be {REASON_MIN}-{REASON_MAX} characters")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise bad_request("reason: control characters (NUL, newlines, ...) are not allowed")
    return text


async def record(st: ApiState, who: Principal, kind: str, route: str, *,
                 reason: str | None, sessions: list[str], **details: Any) -> None:
    """Seal ``access.<kind>``; raise 503 (nothing returned) when it cannot be sealed."""
    body = {"token": who.name, "token_id": who.token_id, "role": who.role.value,
            "route": route, "sessions": sessions, "reason": reason,
            "at": st.clock.now().isoformat(), "result": "served", **details}
    try:
        await st.seal(who.tenant_id, f"access.{kind}", body)
    except Exception as exc:  # any failure to commit means the read is not recorded
        log.error("access.%s for tenant %s not sealed (%s); nothing returned", kind,
                  who.tenant_id, type(exc).__name__)
        raise ApiProblem(503, "access-not-recorded", "Access not recorded",
                         "could not record access; nothing returned") from None
