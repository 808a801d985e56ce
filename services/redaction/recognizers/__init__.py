"""Speech-aware recognizers, one module per family; each is ``View -> list[Finding]``."""

from __future__ import annotations

from services.redaction.recognizers import (
    address,
    asr_names,
    cased_names,
    dates,
    email,
    ids,
    name_links,
    name_slots,
    names,
    network,
    numbers,
    place_cues,
    places,
    possessive,
    roles,
    spelled,
    subjects,
    vocatives,
)
from services.redaction.recognizers.base import Finding, Recognizer, View

RECOGNIZERS: tuple[Recognizer, ...] = (
    numbers.recognize, dates.recognize, email.recognize, spelled.recognize, address.recognize,
    names.recognize, ids.recognize, network.recognize, places.recognize, place_cues.recognize,
    roles.recognize, possessive.recognize, subjects.recognize, name_links.recognize,
    name_slots.recognize, asr_names.recognize, vocatives.recognize,
    cased_names.recognize,
)
# Recognizers that need no English: digits, codes, emails, cards, IBANs, IPs, URLs, wallets.
# A call in another language is redacted with these alone (or held back, per the policy).
LANGUAGE_INDEPENDENT: tuple[Recognizer, ...] = (
    numbers.recognize, email.recognize, ids.recognize, network.recognize,
)


def recognize_all(view: View, *, english: bool = True) -> list[Finding]:
    found: list[Finding] = []
    for recognizer in RECOGNIZERS if english else LANGUAGE_INDEPENDENT:
        found.extend(recognizer(view))
    return found


__all__ = ["LANGUAGE_INDEPENDENT", "RECOGNIZERS", "Finding", "View", "recognize_all"]
