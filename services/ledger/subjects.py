"""Subject identifiers of ``session.started``: normalize, index, lift out of the payload (pure).

Erasure finds every session of a person by ``subject_index(pepper, normalize(kind, value))``; the
stored ``session.started`` payload keeps only ``{"$subject": index}`` in place of each value, so
decrypting a payload never shows an identifier. The values themselves live encrypted in
``ledger_subjects``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

SUBJECT_KINDS: Final = ("phone_e164", "email", "customer_id")


DEFAULT_REGION: Final = "US"  # for phone numbers written without a country code


def normalize(kind: str, value: str, region: str = DEFAULT_REGION) -> str:
    """The form the index is computed over; erasure requests must normalize the same way.

    Phones: E.164 via ``phonenumbers`` when the text parses as a possible number in any common
    format (spaces, dots, dashes, brackets, ``00`` international prefix), otherwise its digits."""
    text = value.strip()
    if kind == "phone_e164":
        import phonenumbers

        try:
            parsed = phonenumbers.parse(text, region)
            if phonenumbers.is_possible_number(parsed):
                return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
        return "".join(c for c in text if c == "+" or c.isdigit())
    if kind == "email":
        return text.lower()
    return text


def split_subjects(payload: dict[str, Any], index: Callable[[str], str]
                   ) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """(payload without identifiers, {kind: (normalized value, index)})."""
    subject = payload.get("subject")
    if not isinstance(subject, dict):
        return payload, {}
    found: dict[str, tuple[str, str]] = {}
    redacted: dict[str, Any] = {}
    for key, value in subject.items():
        if key in SUBJECT_KINDS and isinstance(value, str) and value.strip():
            norm = normalize(key, value)
            idx = index(norm)
            found[key] = (norm, idx)
            redacted[key] = {"$subject": idx}
        elif key in SUBJECT_KINDS:
            redacted[key] = None  # empty or not a string: nothing identifying to keep
        else:
            # Unknown keys are not ours to judge: drop them rather than store possible PII.
            redacted[key] = {"$dropped": True}
    return {**payload, "subject": redacted}, found
