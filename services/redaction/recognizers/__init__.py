"""Speech-aware recognizers, one module per family; each is ``View -> list[Finding]``."""

from __future__ import annotations

from services.redaction.recognizers import address, dates, email, names, numbers, spelled
from services.redaction.recognizers.base import Finding, Recognizer, View

RECOGNIZERS: tuple[Recognizer, ...] = (
    numbers.recognize, dates.recognize, email.recognize, spelled.recognize, address.recognize,
    names.recognize,
)


def recognize_all(view: View) -> list[Finding]:
    found: list[Finding] = []
    for recognizer in RECOGNIZERS:
        found.extend(recognizer(view))
    return found


__all__ = ["RECOGNIZERS", "Finding", "View", "recognize_all"]
