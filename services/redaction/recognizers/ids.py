"""Identity documents and other letter+digit codes, written or spoken: US_PASSPORT,
US_DRIVER_LICENSE, US_ITIN, UK_NHS, MEDICAL_LICENSE, IBAN_CODE.

A code is read like a number run, but letters count too: "A1234567", "D as in David one two
three four five six seven", "G B two nine N W B K ...", "double oh seven". Its class comes from
the cue before it or what the agent asked ("what's your passport number?"), else from its
shape and checksum (IBAN mod 97, DEA, NHS mod 11, ITIN ranges). Pure logic, one pass over the
tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.numbers import in_timestamp
from services.redaction.spoken import REPEATS, Token, element

DETECTOR = "ids"
_SEPARATORS = frozenset({",", "-", ".", "/", "dash", "hyphen", "then"})
NATO = _NATO = {
    "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E",
    "foxtrot": "F", "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J",
    "kilo": "K", "lima": "L", "mike": "M", "november": "N", "oscar": "O", "papa": "P",
    "quebec": "Q", "romeo": "R", "sierra": "S", "tango": "T", "uniform": "U", "victor": "V",
    "whiskey": "W", "whisky": "W", "xray": "X", "x-ray": "X", "yankee": "Y", "zulu": "Z",
}
# Cue → entity, most specific first ("medical license" is also a license; ITIN is a tax id).
_BY_TOPIC = (
    (Topic.ITIN, "US_ITIN"), (Topic.PASSPORT, "US_PASSPORT"), (Topic.MEDICAL, "MEDICAL_LICENSE"),
    (Topic.LICENSE, "US_DRIVER_LICENSE"), (Topic.NHS, "UK_NHS"), (Topic.IBAN, "IBAN_CODE"),
)
_NOT_ID_BEFORE = frozenset({
    "version", "v", "error", "step", "page", "flight", "gate", "row", "seat", "floor", "room",
    "ticket", "order", "case", "invoice", "reference", "ref", "confirmation", "tracking",
    "model", "item", "sku", "part", "serial", "booking", "record", "locator", "code", "promo",
    "coupon", "product", "firmware", "build", "release", "plan", "route", "bus", "train",
})
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
_IBAN_START = re.compile(r"[A-Z]{2}\d{2}")
_DEA = re.compile(r"[A-Z]{2}\d{7}")
_PASSPORT = re.compile(r"[A-Z]\d{8}|\d{9}")


@dataclass(frozen=True, slots=True)
class Code:
    chars: str  # upper-case letters and digits as a listener writes them down
    first: int
    last: int  # token indices, inclusive
    start: int
    end: int

    @property
    def letters(self) -> int:
        return sum(c.isalpha() for c in self.chars)

    @property
    def digits(self) -> int:
        return sum(c.isdigit() for c in self.chars)


_MODIFIERS = frozenset({"capital", "uppercase", "upper", "lowercase", "lower", "small", "big"})


def _letter(toks: list[Token], i: int) -> tuple[str, int] | None:
    tok = toks[i]
    if tok.low in _MODIFIERS and i + 1 < len(toks) and len(toks[i + 1].text) == 1 \
            and toks[i + 1].text.isalpha():
        return toks[i + 1].text.upper(), i + 2  # "capital k" (case is lost; the span is not)
    if len(tok.text) == 1 and tok.text.isalpha():
        n = len(toks)
        if i + 3 < n and toks[i + 1].low == "as" and toks[i + 2].low in ("in", "for"):
            return tok.text.upper(), i + 4
        return tok.text.upper(), i + 1
    if tok.low in _NATO:
        return _NATO[tok.low], i + 1
    return None


def _piece(toks: list[Token], i: int) -> tuple[str, int] | None:
    """One element of a code at token ``i``: (characters, next index)."""
    tok = toks[i]
    if tok.text.isalnum() and not tok.text.isalpha() and not tok.text.isdigit():
        return tok.text.upper(), i + 1  # "A1234567", "5B"
    if tok.low in REPEATS and i + 1 < len(toks):
        inner = _letter(toks, i + 1)
        if inner is not None:
            return inner[0] * REPEATS[tok.low], inner[1]
    num = element(toks, i)
    if num is not None:
        return num[0], num[1]
    return _letter(toks, i)


def codes(view: View) -> list[Code]:
    """Maximal runs of code elements, one separator allowed between two elements."""
    toks = view.tokens
    out: list[Code] = []
    i = 0
    while i < len(toks):
        got = _piece(toks, i)
        if got is None:
            i += 1
            continue
        first, chars, last = i, got[0], got[1] - 1
        i = got[1]
        while i < len(toks):
            j = i + 1 if toks[i].low in _SEPARATORS else i
            nxt = _piece(toks, j) if j < len(toks) else None
            if nxt is None and j < len(toks) and _IBAN_START.fullmatch(chars) \
                    and len(toks[j].text) == 4 and toks[j].text.isalpha():
                nxt = toks[j].text.upper(), j + 1  # "gb82 west 1234 …": a bank code group
            if nxt is None:
                break
            chars += nxt[0]
            last, i = nxt[1] - 1, nxt[1]
        first = _trim(toks, first, last)
        if first <= last:
            out.append(Code(_chars(toks, first, last), first, last, toks[first].start,
                            toks[last].end))
    return out


def _trim(toks: list[Token], first: int, last: int) -> int:
    """"a", "i" and "oh" start a sentence more often than a code: drop them at the front."""
    while first < last and toks[first].low in ("a", "i", "oh", "o"):
        first += 1
        while first < last and toks[first].low in _SEPARATORS:
            first += 1
    return first


def _chars(toks: list[Token], first: int, last: int) -> str:
    chars, i = "", first
    while i <= last:
        got = _piece(toks, i)
        if got is None:
            i += 1
            continue
        chars += got[0]
        i = got[1]
    return chars


def iban_ok(chars: str) -> bool:
    moved = chars[4:] + chars[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def dea_ok(chars: str) -> bool:
    d = [int(c) for c in chars[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def nhs_ok(digits: str) -> bool:
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return (0 if check == 11 else check) == int(digits[9])


def itin_ok(digits: str) -> bool:
    if len(digits) != 9 or not digits.isdigit() or digits[0] != "9":
        return False
    middle = int(digits[3:5])
    return 50 <= middle <= 65 or 70 <= middle <= 88 or 90 <= middle <= 92 or 94 <= middle <= 99


def classify(view: View, code: Code) -> tuple[str, float] | None:
    if in_timestamp(view.text, code.start, code.end):
        return None  # "2021-11-21 02:50:40", "2019-03-08T14:05": a moment
    c, n = code.chars, len(code.chars)
    asked = view.topics_at(code.first)
    for topic, entity in _BY_TOPIC:
        if topic in asked and n >= 5 and code.digits >= 2:
            return entity, 0.92
    if code.letters == 0:
        if itin_ok(c):
            return "US_ITIN", 0.85
        if nhs_ok(c) and Topic.PHONE not in asked:
            return "UK_NHS", 0.6
        return None  # digits only: the number reader's business
    before = [t.low for t in view.tokens[max(0, code.first - 2):code.first]]
    if before and (before[-1] in _NOT_ID_BEFORE or (
            before[-1] in ("number", "no", "#", "id", "is") and before[0] in _NOT_ID_BEFORE)):
        return None  # "order AB123456", "order number AB123456"
    if _IBAN.fullmatch(c) and iban_ok(c):
        return "IBAN_CODE", 0.95
    if _DEA.fullmatch(c) and dea_ok(c):
        return "MEDICAL_LICENSE", 0.8
    if _PASSPORT.fullmatch(c):
        return "US_PASSPORT", 0.6
    if _IBAN.fullmatch(c):
        return "IBAN_CODE", 0.6
    if n >= 25 and (c.startswith(("1", "3", "BC1", "0X")) or Topic.CRYPTO in asked):
        return "CRYPTO", 0.85  # a wallet read out character by character
    if Topic.CRYPTO in asked and n >= 10:
        return "CRYPTO", 0.8
    if code.digits >= 6 and code.letters <= 4:
        return "ID_NUMBER", 0.5
    if n >= 16 and code.digits >= 4:
        return "ID_NUMBER", 0.5  # a long code read out: whatever it is, it identifies
    return None


def recognize(view: View) -> list[Finding]:
    out: list[Finding] = []
    for code in codes(view):
        label = classify(view, code)
        if label is not None:
            out.append(Finding(label[0], code.start, code.end, label[1], DETECTOR))
    return out
