"""Numeric identifiers, written or spoken: phone, card, CVV, expiry, SSN, bank, routing, ZIP.

Each number run (see ``spoken.py``) is classified once, from its digit count, its checksum
(Luhn for cards, ABA for routing numbers), its written grouping ("123-45-6789"), the cue words
just before it, and what the agent just asked. Amounts, times, durations and quantities are left
alone: the guard words around them win over everything but an explicit question.
"""

from __future__ import annotations

import re

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.spoken import NumberRun, aba_ok, luhn_ok

DETECTOR = "numbers"

_CURRENCY_BEFORE = frozenset({"$", "£", "€", "¥", "usd", "eur", "gbp"})
_NOT_ID_BEFORE = frozenset({
    "version", "v", "ver", "error", "step", "page", "chapter", "level", "build", "release",
    "flight", "gate", "row", "seat", "floor", "room", "ticket", "order", "case", "invoice",
    "reference", "ref", "confirmation", "tracking", "model", "item", "sku", "option",
    "press", "extension", "ext", "top", "about", "around", "over", "under", "than",
})
_UNITS_AFTER = frozenset({
    "dollar", "dollars", "bucks", "cent", "cents", "percent", "%", "am", "pm", "a", "p",
    "o'clock", "oclock", "minute", "minutes", "mins", "hour", "hours", "hrs", "day", "days",
    "week", "weeks", "month", "months", "year", "years", "second", "seconds", "secs", "gb", "mb",
    "kb", "tb", "gig", "gigs", "times", "people", "items", "users", "miles", "mile", "pounds",
    "euros", "kg", "lbs", "points", "calls", "tickets", "units", "seats", "rooms", "nights",
    "licenses", "licences", "devices", "lines", "percent.", "k", "grand", "million", "billion",
    "thousand", "hundred", "ms", "milliseconds", "degrees", "feet", "inches", "orders",
    "messages", "texts", "employees", "customers", "agents", "per", "each",
})
_COMMA_THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


def _guarded(view: View, run: NumberRun) -> bool:
    """A price, time, duration, quantity, version or code, not an identifier."""
    toks = view.tokens
    before = toks[run.first - 1].low if run.first > 0 else ""
    after = toks[run.last + 1].low if run.last + 1 < len(toks) else ""
    if before in _CURRENCY_BEFORE or before in _NOT_ID_BEFORE or after in _UNITS_AFTER:
        return True
    # "1,200,000": thousands separators are how amounts are written, never phone or card groups.
    if _COMMA_THOUSANDS.fullmatch(view.text[run.start:run.end]):
        return True
    return in_timestamp(view.text, run.start, run.end)


# A written date with a time of day ("2014-05-21 10:59:02.051316", "2014-05-21T10:59"): a
# moment, not a phone or an account. A date alone may be a birth date: the dates reader has it.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?")
_TIMESTAMP_REACH = 32  # longer than any timestamp: the window around a run stays bounded


def in_timestamp(text: str, start: int, end: int) -> bool:
    lo = max(0, start - _TIMESTAMP_REACH)
    window = text[lo:end + _TIMESTAMP_REACH]
    return any(m.start() + lo <= start and end <= m.end() + lo
               for m in _TIMESTAMP.finditer(window))


def _international(view: View, run: NumberRun) -> bool:
    return run.first > 0 and view.tokens[run.first - 1].low in ("+", "plus")


def classify(view: View, run: NumberRun, floor: int) -> tuple[str, float] | None:
    """(entity type, score) for one run, or None when it is not identifying."""
    d, n = run.digits, len(run.digits)
    local = view.local_topics(run.first, floor=floor)
    asked = local or view.context.asked
    if _guarded(view, run) and not (view.context.asked and not local and run.spoken):
        return None
    if Topic.CVV in asked and n in (3, 4):
        return "CVV", 0.85
    if Topic.EXPIRY in asked and 3 <= n <= 6 and 1 <= int(d[:2] if n in (4, 6) else d[0]) <= 12:
        return "CARD_EXPIRY", 0.85
    if Topic.LAST_FOUR in asked and n == 4:
        return _last_four(asked), 0.8
    if Topic.ZIP in asked and n in (4, 5, 6, 9):
        # US ZIP and ZIP+4; four- and six-digit postcodes of other countries ("zip 3891")
        return "ZIP_CODE", 0.85
    if Topic.DOB in asked and 4 <= n <= 8:
        return "DATE_OF_BIRTH", 0.8
    if _international(view, run) and 8 <= n <= 15:
        return "PHONE_NUMBER", 0.9
    if 13 <= n <= 19:
        if luhn_ok(d):
            return "CREDIT_CARD", 0.95
        return ("CREDIT_CARD", 0.6) if Topic.CARD in asked else ("ID_NUMBER", 0.5)
    if n == 9:
        nine = _nine(asked, run)
        if nine:
            return nine
    if Topic.ACCOUNT in asked and n >= 5 and Topic.PHONE not in local:
        return "US_BANK_NUMBER", 0.8
    if n == 10 and d[0] in "23456789":
        return "PHONE_NUMBER", 0.9 if Topic.PHONE in asked else 0.75
    if n == 11 and d[0] in "10":
        return "PHONE_NUMBER", 0.8
    if Topic.PHONE in asked and n >= 7:
        return "PHONE_NUMBER", 0.75
    if n == 5 and _near_address(view, run, floor):
        return "ZIP_CODE", 0.7
    if n >= 7:
        return "ID_NUMBER", 0.45
    if asked & {Topic.CARD, Topic.SSN, Topic.ACCOUNT, Topic.ROUTING} and n >= 3 and run.spoken:
        # The agent asked for a sensitive number and the caller is reading digits in chunks.
        return "ID_NUMBER", 0.6
    return None


def _last_four(asked: frozenset[Topic]) -> str:
    for topic, entity in ((Topic.SSN, "US_SSN"), (Topic.CARD, "CREDIT_CARD"),
                          (Topic.ACCOUNT, "US_BANK_NUMBER"), (Topic.PHONE, "PHONE_NUMBER")):
        if topic in asked:
            return entity
    return "ID_NUMBER"


def _nine(asked: frozenset[Topic], run: NumberRun) -> tuple[str, float] | None:
    if Topic.SSN in asked:
        return "US_SSN", 0.9
    if Topic.ROUTING in asked:
        return "ABA_ROUTING_NUMBER", 0.95 if aba_ok(run.digits) else 0.7
    if Topic.ACCOUNT in asked:
        return "US_BANK_NUMBER", 0.8
    if run.groups == (3, 2, 4):
        return "US_SSN", 0.8
    if aba_ok(run.digits) and not run.digits.startswith("0000"):
        return "ABA_ROUTING_NUMBER", 0.5
    return None


_STREET_WORDS = frozenset({
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive",
    "dr", "court", "ct", "way", "place", "pl", "terrace", "circle", "parkway", "pkwy", "highway",
    "hwy", "apartment", "apt", "suite", "unit",
})


def _near_address(view: View, run: NumberRun, floor: int) -> bool:
    lo = max(floor, run.first - 8)
    for tok in view.tokens[lo:run.first]:
        if tok.low in _STREET_WORDS or tok.low in US_STATE_NAMES:
            return True
        # Abbreviations only in capitals: "in", "me", "or", "oh" are ordinary words.
        if len(tok.text) == 2 and tok.text.isupper() and tok.low in US_STATE_CODES:
            return True
    return False


US_STATE_CODES = frozenset({
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia",
    "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj",
    "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut", "vt",
    "va", "wa", "wv", "wi", "wy", "dc",
})
US_STATE_NAMES = frozenset({
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut",
    "delaware", "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas",
    "kentucky", "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota",
    "mississippi", "missouri", "montana", "nebraska", "nevada", "ohio", "oklahoma", "oregon",
    "pennsylvania", "tennessee", "texas", "utah", "vermont", "virginia", "washington",
    "wisconsin", "wyoming", "jersey", "york", "carolina", "dakota",
})


def recognize(view: View) -> list[Finding]:
    out: list[Finding] = []
    floor = 0
    for run in view.runs:
        label = classify(view, run, floor)
        if label is None:
            continue
        floor = run.last + 1  # cues for the next identifier are read after this one
        entity, score = label
        start = run.start
        if _international(view, run):
            start = view.tokens[run.first - 1].start
        out.append(Finding(entity, start, run.end, score, DETECTOR))
    return out
