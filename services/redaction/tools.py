"""Tool calls: redact the JSON an agent passed to a tool, and what the tool returned.

Agents pass what the caller said straight into tools
(``save_call_summary({"client_name": …, "client_phone": …, "summary": …})``). Every string or
number value is a slot; its key says what it holds. A key that names a personal field (``phone``,
``email``, ``name``, ``address``, ``dob`` …) makes the whole value that entity, whatever its
form; any other string runs through the same recognizers as a caller's turn, with the key read as
the agent's question ("client phone?"), so a phone number inside ``summary`` is still found.
Other numbers (amounts, counts, ids) stay. Values are replaced in place and the JSON is written
back, so it stays valid JSON (a replaced number becomes a string). Text that is not JSON is one
free-text slot. Pure logic: the caller runs the engine on the slots.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
_MAX_DEPTH = 64  # the envelope refuses deeper JSON; a tool result is held to the same bound
_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Key words → entity. Matched on the key's words ("client_phone" → client, phone).
_KEY_TYPES: tuple[tuple[frozenset[str], str], ...] = tuple(
    (frozenset(words.split()), entity) for words, entity in (
        ("phone mobile cell telephone tel msisdn callback", "PHONE_NUMBER"),
        ("email mail e-mail", "EMAIL_ADDRESS"),
        ("dob birth birthday birthdate", "DATE_OF_BIRTH"),
        ("ssn social", "US_SSN"),
        ("itin", "US_ITIN"),
        ("passport", "US_PASSPORT"),
        ("license licence dl", "US_DRIVER_LICENSE"),
        ("nhs", "UK_NHS"),
        ("npi dea", "MEDICAL_LICENSE"),
        ("iban", "IBAN_CODE"),
        ("card pan", "CREDIT_CARD"),
        ("cvv cvc", "CVV"),
        ("routing aba", "ABA_ROUTING_NUMBER"),
        ("account", "US_BANK_NUMBER"),
        ("ip", "IP_ADDRESS"),
        ("url website homepage", "URL"),
        ("wallet btc bitcoin eth", "CRYPTO"),
        ("address street addr address1 address2", "STREET_ADDRESS"),
        ("city town county zip zipcode postcode postal", "LOCATION"),
        ("name firstname lastname surname fullname", "PERSON"),
        ("nationality religion ethnicity", "NRP"),
    ))
# Keys that look personal by the table above but are not ("account_type", "card_brand").
_NOT_PERSONAL = frozenset({
    "type", "status", "brand", "kind", "id", "count", "verified", "valid", "last4", "country",
    "code", "format", "enabled", "tool", "function", "file", "user", "product", "plan", "company",
    "business", "organization", "org", "agent", "bank", "merchant",
})
# "tool_name", "product_name": a name, not a person's.
_NOT_A_PERSON = frozenset({
    "tool", "function", "file", "product", "plan", "company", "business", "organization", "org",
    "bank", "merchant", "item", "service", "event", "host", "domain", "display", "user", "app",
    "model", "brand", "category", "field", "table", "queue", "team", "department", "package",
})


@dataclass(frozen=True, slots=True)
class Slot:
    path: Path
    key: str  # the nearest object key above the value ("" at the top)
    text: str
    entity: str | None  # the whole value is this entity (from its key), else free text


def key_words(key: str) -> list[str]:
    return [w for w in _SPLIT.split(_CAMEL.sub("_", key).lower()) if w]


# "customer_id", "memberNumber": an identifier of a person (DESIGN.md counts a customer id as a
# subject identifier), whatever its shape.
_WHOSE = frozenset({"customer", "member", "patient", "client", "subscriber", "policyholder",
                    "user", "caller", "contact", "person", "holder",
                    "employee", "student", "cardholder"})
_ID_WORDS = frozenset({"id", "number", "no", "num", "ref", "reference", "identifier"})


def entity_of_key(key: str) -> str | None:
    words = key_words(key)
    if len(words) >= 2 and words[-1] in _ID_WORDS and words[-2] in _WHOSE:
        return "ID_NUMBER"
    if not words or words[-1] in _NOT_PERSONAL:
        return None
    joined = "".join(words)
    singular = [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words]  # "phones"
    for names, entity in _KEY_TYPES:
        if any(w in names for w in words + singular) or joined in names:
            if entity == "PERSON" and any(w in _NOT_A_PERSON for w in words):
                return None
            return entity
    return None


def question_for(key: str) -> str | None:
    """The key as the agent's question, for the dialogue context of a free-text value."""
    words = key_words(key)
    return f"what's your {' '.join(words)}?" if words else None


def parse(raw: str | None) -> tuple[Any, bool]:
    """(document, is_json). Non-JSON text is returned as itself."""
    if raw is None:
        return None, False
    try:
        return json.loads(raw), True
    except ValueError:
        return raw, False


def slots(doc: Any, is_json: bool) -> list[Slot]:
    if not is_json:
        return [Slot((), "", doc, None)] if isinstance(doc, str) and doc.strip() else []
    out: list[Slot] = []
    _walk(doc, (), "", out, 0)
    return out


def _walk(node: Any, path: Path, key: str, out: list[Slot], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("tool-call JSON nested too deep")
    if isinstance(node, dict):
        for k, v in node.items():
            _walk(v, (*path, k), str(k), out, depth + 1)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk(v, (*path, i), key, out, depth + 1)
    elif isinstance(node, bool) or node is None:
        return
    elif isinstance(node, str):
        if node.strip():
            out.append(Slot(path, key, node, entity_of_key(key)))
    elif isinstance(node, int | float):
        entity = entity_of_key(key)
        if entity is not None:  # a phone stored as a number; amounts and counts stay
            out.append(Slot(path, key, str(node), entity))


def rebuild(doc: Any, is_json: bool, replaced: dict[Path, str]) -> str | None:
    """The document with each slot's redacted text in place, as text."""
    if not is_json:
        return replaced.get((), doc) if isinstance(doc, str) else None
    if () in replaced:
        return json.dumps(replaced[()], ensure_ascii=False)
    for path, text in replaced.items():
        node = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = text
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
