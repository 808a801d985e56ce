"""Spoken-form text: tokens with character offsets, and numbers read as digits with a span map.

ASR transcripts spell numbers out ("four one five", "oh", "double five", "fifty five hundred")
or mix words and digits. Recognizers work on :class:`NumberRun` objects: the digits a listener
would write down, plus, for every digit, the character span of the original text it came from,
so a finding always maps back to the exact words that carried it. Pure logic, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Mixed letter+digit tokens ("0x80070005", "E1234", "42nd") stay whole: they are codes, versions
# or ordinals, and splitting them would invent long digit runs out of error codes.
# "..." is one token: ASR writes pauses between digit groups that way.
# Letters are Unicode letters ("Ní Bhriain", "Élodie"); "O'Connor" and "O\u2019Connor" stay one token.
_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W\d_]+)?|\.{2,}|[^\s\w]|_")

UNITS = {
    "zero": 0, "oh": 0, "o": 0, "nought": 0, "naught": 0, "one": 1, "two": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
REPEATS = {"double": 2, "triple": 3}
# Between digit groups people pause, say "dash", or hesitate; ASR writes that as punctuation.
SEPARATOR_WORDS = frozenset({"dash", "hyphen", "slash", "uh", "um", "er", "erm", "ah", "hmm"})
SEPARATOR_PUNCT = frozenset({",", "-", ".", "...", "…", "/", "(", ")", "\u2013", "\u2014"})
_ZERO_WORDS = frozenset({"oh", "o"})
_MAX_GAP = 2


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    low: str  # lowercased text, computed once: every recognizer compares on it

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end(), m.group().lower())
            for m in _TOKEN_RE.finditer(text)]


@dataclass(frozen=True, slots=True)
class Piece:
    """Digits read from one or more adjacent tokens, and the characters they came from."""

    digits: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class NumberRun:
    pieces: tuple[Piece, ...]
    first: int  # token index of the first token read
    last: int  # token index of the last token read (inclusive)
    spoken: bool  # at least one piece came from words, not digits

    @property
    def digits(self) -> str:
        return "".join(p.digits for p in self.pieces)

    @property
    def start(self) -> int:
        return self.pieces[0].start

    @property
    def end(self) -> int:
        return self.pieces[-1].end

    @property
    def groups(self) -> tuple[int, ...]:
        """Digit count per piece: a written "123-45-6789" reads as (3, 2, 4)."""
        return tuple(len(p.digits) for p in self.pieces)

    def span_of_digits(self, first: int, last: int) -> tuple[int, int]:
        """Character span covering digits ``first..last`` (inclusive, 0-based)."""
        pos, start, end = 0, self.start, self.end
        for p in self.pieces:
            if pos <= first < pos + len(p.digits):
                start = p.start
            if pos <= last < pos + len(p.digits):
                end = p.end
            pos += len(p.digits)
        return start, end


def _cardinal(tokens: list[Token], i: int) -> tuple[str, int] | None:
    """Read a cardinal at ``tokens[i]``: "twenty one", "fifty five hundred", "two thousand five".

    A bare unit or a bare tens word reads as itself ("twenty twenty" is two reads: 20, 20).
    """
    n = len(tokens)
    w = tokens[i].low
    if w in TEENS:
        value, j = TEENS[w], i + 1
    elif w in TENS:
        value, j = TENS[w], i + 1
        if j < n and tokens[j].low in UNITS and tokens[j].low not in _ZERO_WORDS \
                and tokens[j].low != "zero":
            value, j = value + UNITS[tokens[j].low], j + 1
    elif w in UNITS and w not in _ZERO_WORDS:
        value, j = UNITS[w], i + 1
    elif w == "a" and i + 1 < n and tokens[i + 1].low in ("hundred", "thousand"):
        value, j = 1, i + 1
    else:
        return None
    scaled = False
    for word, factor in (("thousand", 1000), ("hundred", 100)):
        if j < n and tokens[j].low == word and value < 100:
            value, j, scaled = value * factor, j + 1, True
            rest = _tail(tokens, j, factor)
            if rest:
                value, j = value + rest[0], rest[1]
    if not scaled and value == 0:
        return None
    return str(value), j


def _tail(tokens: list[Token], j: int, factor: int) -> tuple[int, int] | None:
    """After "hundred"/"thousand": an optional "and" and a smaller number."""
    k = j + 1 if j < len(tokens) and tokens[j].low == "and" else j
    if k >= len(tokens):
        return None
    w = tokens[k].low
    if factor == 1000 and w in UNITS and k + 1 < len(tokens) and tokens[k + 1].low == "hundred":
        hundreds = UNITS[w] * 100
        more = _tail(tokens, k + 2, 100)
        return (hundreds + more[0], more[1]) if more else (hundreds, k + 2)
    if w in TEENS:
        return TEENS[w], k + 1
    if w in TENS:
        if k + 1 < len(tokens) and tokens[k + 1].low in UNITS and tokens[k + 1].low not in (
                "zero", "oh", "o"):
            return TENS[w] + UNITS[tokens[k + 1].low], k + 2
        return TENS[w], k + 1
    if w in UNITS and w not in _ZERO_WORDS and w != "zero":
        return UNITS[w], k + 1
    return None


def _element(tokens: list[Token], i: int) -> tuple[str, int, bool] | None:
    """One digit group starting at token ``i``: (digits, next index, spoken)."""
    tok = tokens[i]
    if tok.text.isdigit():
        return tok.text, i + 1, False
    w = tok.low
    if w in REPEATS and i + 1 < len(tokens):
        inner = _single_digit(tokens[i + 1])
        if inner is not None:
            return inner * REPEATS[w], i + 2, True
        return None
    if w in ("zero", "nought", "naught") or w in _ZERO_WORDS:
        return "0", i + 1, True
    card = _cardinal(tokens, i)
    if card:
        return card[0], card[1], True
    return None


def _single_digit(tok: Token) -> str | None:
    if tok.text.isdigit() and len(tok.text) == 1:
        return tok.text
    if tok.low in UNITS:
        return str(UNITS[tok.low])
    return None


def _is_separator(tok: Token) -> bool:
    return tok.text in SEPARATOR_PUNCT or tok.low in SEPARATOR_WORDS or tok.text.startswith("..")


def number_runs(tokens: list[Token]) -> list[NumberRun]:
    """Every maximal run of number words/digits, joined across short pauses and separators."""
    runs: list[NumberRun] = []
    i, n = 0, len(tokens)
    while i < n:
        el = _element(tokens, i)
        if el is None:
            i += 1
            continue
        pieces: list[Piece] = []
        first = at = i
        spoken = False
        while True:
            digits, nxt, was_spoken = el
            pieces.append(Piece(digits, tokens[at].start, tokens[nxt - 1].end))
            spoken = spoken or was_spoken
            last = nxt - 1
            j = nxt
            while j < n and j - nxt < _MAX_GAP and _is_separator(tokens[j]):
                j += 1
            nxt_el = _element(tokens, j) if j < n else None
            if nxt_el is None:
                i = nxt
                break
            el, at = nxt_el, j
        run = _trim_zero_words(tokens, NumberRun(tuple(pieces), first, last, spoken))
        if run is not None:
            runs.append(run)
    return runs


def _trim_zero_words(tokens: list[Token], run: NumberRun) -> NumberRun | None:
    """"Oh" and "o" are zeros only next to other digits: "oh, sure" is not a number."""
    pieces = list(run.pieces)
    first = run.first
    while pieces and tokens[first].low in _ZERO_WORDS and (
            len(pieces) == 1 or tokens[first + 1].text in SEPARATOR_PUNCT):
        pieces.pop(0)
        first += 1
        while first <= run.last and _is_separator(tokens[first]):
            first += 1
    if not pieces:
        return None
    return NumberRun(tuple(pieces), first, run.last, run.spoken)


def luhn_ok(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def aba_ok(digits: str) -> bool:
    """ABA routing number checksum (3-7-1 weights)."""
    if len(digits) != 9:
        return False
    w = (3, 7, 1) * 3
    return sum(int(d) * k for d, k in zip(digits, w, strict=True)) % 10 == 0


def element(tokens: list[Token], i: int) -> tuple[str, int, bool] | None:
    """One digit group at token ``i`` (see ``_element``), for readers of mixed codes."""
    return _element(tokens, i)
