"""Redaction policy (versioned, hashed) and the operators it selects.

A policy says, per entity type, how a finding is replaced: a typed placeholder (``<PHONE_NUMBER>``),
a pseudonym stable within a session (``<PERSON_1>``), a mask, a keyed hash, or kept. Its hash is
recorded on every redacted turn, so a change of policy is visible and re-runs can be targeted.
Pseudonyms and hashes are keyed (HMAC): an unkeyed hash of a phone number is a lookup away from
the number. Only digests are held, never the values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Operator = Literal["placeholder", "pseudonym", "mask", "hash", "keep"]
# Which places are personal: every place, places smaller than a country (a caller's city, town
# or state identifies far more than their country), or none.
Granularity = Literal["all", "below_country", "none"]
# A call not in the policy's language: hold it back from export, or redact it with the
# language-independent recognizers only (numbers, codes, emails, cards, IBANs, IPs, URLs).
OtherLanguages = Literal["hold", "patterns"]
# Which group mentions (nationality, ethnic group, religion, political group: GDPR Art. 9
# special-category data) are personal: those said of a person or of people ("i'm catholic", "my
# husband is nigerian", "he doesn't rent to arabs"), or every mention, as stock Presidio
# redacts every NORP, including the same words for things ("thai food", "a swiss franc
# account"). "all" is the default (policy version 4): issue 19 asks for at least stock Presidio's
# coverage, and in a caller's turn "the nigerian embassy" or "our mosque's imam" can reveal what
# "i'm nigerian" does; "people" is the narrower reading of Art. 9 (a dish or a currency reveals
# no one's origin) for a tenant who wants those words kept in training data.
NrpScope = Literal["people", "all"]
_NORMALIZE = re.compile(r"[^a-z0-9]+")


def _default_operators() -> dict[str, Operator]:
    return {"PERSON": "pseudonym"}


class RedactionPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1, 2, 3] = 3
    name: str = "default"
    # 2: every class stock Presidio detects, places below country level, tool calls, language.
    # 3: nrp_scope (groups said of people; "all" for stock Presidio's every mention).
    # 4: nrp_scope "all" by default (every group mention, as stock Presidio).
    version: int = Field(default=4, ge=1)
    tenant_id: str | None = None
    threshold: float = Field(default=0.35, ge=0.0, le=1.0)
    default_operator: Operator = "placeholder"
    operators: dict[str, Operator] = Field(default_factory=_default_operators)
    mask_char: str = Field(default="*", min_length=1, max_length=1)
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    other_languages: OtherLanguages = "hold"
    location_granularity: Granularity = "below_country"
    nrp_scope: NrpScope = "all"

    def operator_for(self, entity_type: str) -> Operator:
        return self.operators.get(entity_type, self.default_operator)

    @cached_property
    def policy_hash(self) -> str:
        """SHA-256 of the canonical JSON: equal policies hash equal, whatever the dict order."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


DEFAULT_POLICY = RedactionPolicy()


def _norm(value: str) -> bytes:
    return _NORMALIZE.sub(" ", value.lower()).strip().encode()


class Pseudonyms:
    """Per-session numbering: the same value of the same type gets the same ``<TYPE_n>``.

    A person is named in parts across a call ("Maria Gonzalez", later "Ms. Gonzalez", "Maria"):
    a PERSON value any of whose words (3+ letters) was part of an earlier one gets that label."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._seen: dict[str, dict[bytes, int]] = {}
        self._parts: dict[bytes, int] = {}  # keyed digests of PERSON words → label number

    def _digest(self, entity_type: str, norm: bytes) -> bytes:
        return hmac.new(self._key, entity_type.encode() + b"\0" + norm, hashlib.sha256).digest()

    def label(self, entity_type: str, value: str) -> str:
        norm = _norm(value)
        digest = self._digest(entity_type, norm)
        numbers = self._seen.setdefault(entity_type, {})
        if entity_type == "PERSON" and digest not in numbers:
            words = norm.split()
            if words and all(len(w) == 1 for w in words):
                words = [b"".join(words)]  # spelled out: "g o n z a l e z" is "gonzalez"
            parts = [self._digest("PERSON-part", w) for w in words if len(w) >= 3]
            known = [self._parts[p] for p in parts if p in self._parts]
            numbers[digest] = known[0] if known else len(set(numbers.values())) + 1
            for p in parts:
                self._parts.setdefault(p, numbers[digest])
        n = numbers.setdefault(digest, len(set(numbers.values())) + 1)
        return f"<{entity_type}_{n}>"

    def keyed_hash(self, entity_type: str, value: str) -> str:
        digest = hmac.new(self._key, b"hash\0" + _norm(value), hashlib.sha256).hexdigest()
        return f"<{entity_type}:{digest[:16]}>"


def replacement(policy: RedactionPolicy, pseudonyms: Pseudonyms, entity_type: str,
                value: str) -> str:
    op = policy.operator_for(entity_type)
    if op == "placeholder":
        return f"<{entity_type}>"
    if op == "pseudonym":
        return pseudonyms.label(entity_type, value)
    if op == "hash":
        return pseudonyms.keyed_hash(entity_type, value)
    if op == "mask":
        return "".join(policy.mask_char if ch.isalnum() else ch for ch in value)
    return value
