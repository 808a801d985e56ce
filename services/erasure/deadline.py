"""GDPR Art. 12(3) clock (pure): due one month after receipt; extendable by up to two further
months, only with a recorded reason and only before the first month ends."""

from __future__ import annotations

import calendar
from datetime import datetime

MAX_EXTENSION_MONTHS = 2


class DeadlineError(ValueError):
    """An extension the regulation does not allow."""


def add_months(at: datetime, months: int) -> datetime:
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def due(received_at: datetime) -> datetime:
    return add_months(received_at, 1)


def extend(received_at: datetime, current_due: datetime, months: int, reason: str,
           now: datetime) -> datetime:
    if not reason.strip():
        raise DeadlineError("an extension needs a recorded reason (--reason)")
    if months < 1 or months > MAX_EXTENSION_MONTHS:
        raise DeadlineError(f"an extension is 1 to {MAX_EXTENSION_MONTHS} months")
    if now >= due(received_at):
        raise DeadlineError("the first month has ended; an extension had to be made before it")
    new = add_months(received_at, 1 + months)
    if new <= current_due:
        raise DeadlineError("the request is already extended that far")
    return new


def overdue(status: str, due_at: datetime, now: datetime) -> bool:
    return status not in ("completed", "refused") and now > due_at
