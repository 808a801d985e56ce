"""One clock for everything that reasons about calendar time (retention, holds, erasure deadlines).

Production reads the system clock. Tests and dry runs inject a :class:`FixedClock` or a
:class:`ShiftedClock` so years of retention pass in seconds. Outside ``production`` the
``VOXLEDGER_CLOCK_OFFSET_DAYS`` setting shifts the process clock (CLI tests of processes); the
settings refuse it in production.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved (unit tests)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


class ShiftedClock:
    """The system clock shifted by a fixed offset (a dry run "as of" a future date, tests)."""

    def __init__(self, offset: timedelta, base: Clock | None = None) -> None:
        self._offset = offset
        self._base = base or SystemClock()

    def now(self) -> datetime:
        return self._base.now() + self._offset


def clock_for_offset_days(days: float) -> Clock:
    return SystemClock() if not days else ShiftedClock(timedelta(days=days))
