"""A data subject's identifiers: parsed, normalised as the ledger indexes them, and the forms the
residue scan searches for (pure; no I/O).

Phone numbers in any common format (``+1 (415) 555-0123``, ``415.555.0123``, ``0044 20 …``) are
parsed with ``phonenumbers`` and indexed in E.164, exactly as the sealer does
(services/ledger/subjects.py); emails are lowercased; customer ids are trimmed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from services.ledger.subjects import normalize

KINDS = {"phone": "phone_e164", "email": "email", "customer_id": "customer_id"}
MAX_IDENTIFIERS = 20
MAX_LENGTH = 254


class IdentifierError(ValueError):
    """An identifier that cannot be used; the message never repeats the value."""


@dataclass(frozen=True)
class Identifier:
    kind: str  # phone_e164 | email | customer_id
    value: str  # normalised

    def scan_forms(self) -> list[str]:
        """Plaintext forms to look for in every text column (E.164, bare digits, national)."""
        if self.kind == "phone_e164":
            digits = self.value.lstrip("+")
            forms = {self.value, digits}
            try:
                import phonenumbers

                n = phonenumbers.parse(self.value)
                national = str(n.national_number)
                forms |= {national, phonenumbers.format_number(
                    n, phonenumbers.PhoneNumberFormat.NATIONAL)}
            except Exception:  # a number phonenumbers cannot parse is kept as digits only
                pass
            return sorted(f for f in forms if len(f) >= 6)
        return [self.value]


def parse(kind: str, raw: str, region: str = "US") -> Identifier:
    if kind not in KINDS.values():
        raise IdentifierError(f"unknown identifier kind {kind!r}")
    text = raw.strip()
    if not text or len(text) > MAX_LENGTH:
        raise IdentifierError(f"{kind}: empty or longer than {MAX_LENGTH} characters")
    if kind == "phone_e164":
        value = normalize(kind, text, region)
        if not value.startswith("+") or len(value) < 8:
            raise IdentifierError("phone: not a phone number in any format we can read "
                                  "(give the country code, e.g. +44 …)")
        return Identifier(kind, value)
    if kind == "email" and "@" not in text:
        raise IdentifierError("email: not an email address")
    return Identifier(kind, normalize(kind, text))


def subject_digest(indexes: list[tuple[str, str]], sessions: list[str]) -> str:
    """A digest of what was asked (HMACs and session ids): names the subject, reveals nothing."""
    lines = sorted(f"{k}:{h}" for k, h in indexes) + sorted(f"session:{s}" for s in sessions)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
