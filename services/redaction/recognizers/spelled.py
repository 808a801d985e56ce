"""Spelled letters: "K O W A L S K I", "K-O-W", "double L", "W as in William".

Three or more letters read one by one are almost never ordinary speech; after "can you spell
your last name?" even two are. The span covers the letters and the "as in" words (which are
as identifying as the letters themselves). Pure logic.
"""

from __future__ import annotations

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.ids import NATO as _NATO
from services.redaction.spoken import Token

DETECTOR = "spelled"
_SEPARATORS = frozenset({",", "-", ".", "…", "dash", "hyphen", "then", "apostrophe", "'",
                         "space", "capital", "uppercase", "lowercase", "small"})
_MODIFIERS = frozenset({"capital", "uppercase", "upper", "lowercase", "lower", "small", "big"})


def _letter(tokens: list[Token], i: int) -> int:
    """Tokens one spelled letter takes at ``i`` (0 if none): "K", "double L", "W as in William"."""
    tok = tokens[i]
    n = len(tokens)
    if tok.low in ("double", "triple") and i + 1 < n and _is_letter(tokens[i + 1]):
        return 2
    if tok.low in _MODIFIERS and i + 1 < n and _is_letter(tokens[i + 1]):
        return 2  # "capital k"
    if not _is_letter(tok):
        return 0
    if i + 3 < n and tokens[i + 1].low == "as" and tokens[i + 2].low in ("in", "for") \
            and tokens[i + 3].text.isalpha():
        return 4
    if i + 2 < n and tokens[i + 1].low == "for" and tokens[i + 2].text[:1].isupper():
        return 3
    return 1


def _is_letter(tok: Token) -> bool:
    return (len(tok.text) == 1 and tok.text.isalpha()) or tok.low in _NATO


def _char(tok: Token) -> str:
    """The letter a token spells: "k" → "k", "kilo" → "k"."""
    return _NATO[tok.low].lower() if tok.low in _NATO else tok.low


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    runs = {r.first: r.last for r in view.runs}
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        used = _letter(toks, i)
        if not used:
            i += 1
            continue
        first, spelled, last, as_in = i, "", i, False
        while used:
            if toks[i].low in ("double", "triple"):
                spelled += _char(toks[i + 1]) * (2 if toks[i].low == "double" else 3)
            elif toks[i].low in _MODIFIERS:
                spelled += _char(toks[i + 1])
            else:
                spelled += _char(toks[i])
            as_in = as_in or used >= 3
            last = i + used - 1
            i += used
            j = i
            while j < len(toks) and j - i < 1 and toks[j].low in _SEPARATORS:
                j += 1
            used = _letter(toks, j) if j < len(toks) else 0
            if used:
                i = j
        if _is_spelling(view, first, len(spelled), as_in):
            first, last = _with_word(toks, first, last, spelled)
            if len(spelled) >= 3:
                last = _code_tail(toks, runs, last)
                i = max(i, last + 1)
            out.append(Finding(_entity(view, first), toks[first].start, toks[last].end,
                               0.85 if len(spelled) >= 3 or as_in else 0.6, DETECTOR))
    return out


def _code_tail(toks: list[Token], runs: dict[int, int], last: int) -> int:
    """"f r a n c seven oh five b d": a code said character by character goes on over the
    numbers and letters that follow its letters. Each token is stepped over once."""
    took_digits = False
    j = last + 1
    while j < len(toks):
        if j in runs:
            last = j = runs[j]
            took_digits = True
        elif took_digits and len(toks[j].text) == 1 and toks[j].text.isalpha() and (
                toks[j].low not in ("a", "i") or (j + 1 < len(toks) and (
                    j + 1 in runs or (len(toks[j + 1].text) == 1
                                      and toks[j + 1].text.isalpha())))):
            last = j
        else:
            break
        j += 1
    return last


def _with_word(toks: list[Token], first: int, last: int, spelled: str) -> tuple[int, int]:
    """"Smith, S M I T H": the word the letters spell, said just before or after, goes too
    ("O'Connor" for "O apostrophe C O N N O R", "Smith-Jones" said as two words)."""
    def plain(k: int, width: int) -> str:
        return "".join(t.low for t in toks[k:k + width] if t.text.isalpha()
                       or "'" in t.text).replace("'", "").replace("\u2019", "")

    def gap(lo: int, hi: int) -> bool:  # only punctuation between the word and the letters
        return all(not toks[x].text[0].isalnum() for x in range(lo, hi))

    done = False
    for k in range(first - 1, max(-1, first - 6), -1):
        for w in (1, 2, 3):
            if k + w <= first and gap(k + w, first) and plain(k, w) == spelled:
                first, done = k, True
                break
        if done:
            break
    for k in range(last + 1, min(len(toks), last + 3)):
        w = next((w for w in (3, 2, 1) if k + w <= len(toks) and gap(last + 1, k)
                  and plain(k, w) == spelled), 0)
        if w:
            last = k + w - 1
            break
    return first, last


def _is_spelling(view: View, first: int, letters: int, as_in: bool) -> bool:
    if as_in or letters >= 3:
        # (NATO words count as letters: "kilo oscar whiskey" is a spelling; "victor" alone is not)
        # "I, a" is two words, and "A B C" in a sentence about the alphabet is rare enough.
        return True
    return letters == 2 and bool(view.topics_at(first) & {Topic.SPELL, Topic.NAME})


def _entity(view: View, first: int) -> str:
    topics = view.topics_at(first)
    if Topic.EMAIL in topics:
        return "EMAIL_ADDRESS"
    if topics & {Topic.NAME, Topic.SPELL}:
        return "PERSON"
    return "SPELLED_TEXT"
