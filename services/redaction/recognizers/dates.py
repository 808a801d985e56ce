"""Dates of birth and card expiry said with a month name: "March fourteenth nineteen eighty five",
"the fifth of May", "expires May twenty twenty six".

A date is identifying only as a birth date (or a card expiry): "your appointment is on March
fifth" stays. Numeric forms ("03/14/1985", "oh five twenty six") are number runs and are
classified in ``numbers.py``. Pure logic.
"""

from __future__ import annotations

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.spoken import TENS

DETECTOR = "dates"

MONTHS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
})
ORDINALS = frozenset({
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth", "thirtieth",
})
_MAX_REACH = 5


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    runs_by_first = {r.first: r for r in view.runs}
    runs_by_last = {r.last: r for r in view.runs}
    for k, tok in enumerate(toks):
        # "May" is also a verb: only a capitalised "May" next to a number or ordinal is a month.
        if tok.low not in MONTHS or (tok.low == "may" and not tok.text[0].isupper()
                                     and not _may_is_month(view, k)):
            continue
        # "my date of birth, um, let me think, is march third": the cue can be a while back.
        asked = (view.local_topics(k, limit=14) or view.context.asked) & {Topic.DOB,
                                                                          Topic.EXPIRY}
        if not asked:
            continue
        start, end = tok.start, tok.end
        j = k - 1
        # "the fifth of March", and day first without "of": "twenty third September",
        # "23rd September", "23 September"
        if j >= 0 and toks[j].low == "of":
            j -= 1
        if j >= 0 and (toks[j].low in ORDINALS or _is_numeric_ordinal(toks[j].low)):
            start = toks[j].start
            if j >= 1 and toks[j - 1].low in TENS:  # "the twenty second of"
                start = toks[j - 1].start
        elif j >= 0 and j == k - 1 and j in runs_by_last and len(runs_by_last[j].digits) <= 2:
            start = runs_by_last[j].start
        j, reached = k + 1, False
        while j < len(toks) and j - k <= _MAX_REACH:
            t = toks[j]
            if j in runs_by_first:
                run = runs_by_first[j]
                end, j, reached = run.end, run.last + 1, True
                continue
            if t.low in ORDINALS or _is_numeric_ordinal(t.low) or t.low in ("the", "of", ","):
                end = t.end if t.low not in ("the", "of", ",") else end
                reached = reached or t.low not in ("the", "of", ",")
                j += 1
                continue
            break
        if reached or start < tok.start:
            entity = "DATE_OF_BIRTH" if Topic.DOB in asked else "CARD_EXPIRY"
            out.append(Finding(entity, start, end, 0.85, DETECTOR))
    return out


def _may_is_month(view: View, k: int) -> bool:
    """Lower-case "may" (ASR) is the month in "the fifth of may" or "may fifth", not "may i"."""
    toks = view.tokens
    before = toks[k - 1].low if k else ""
    after = toks[k + 1].low if k + 1 < len(toks) else ""
    return before == "of" or after in ORDINALS or _is_numeric_ordinal(after) or any(
        r.first == k + 1 for r in view.runs)


def _is_numeric_ordinal(word: str) -> bool:
    return word[:-2].isdigit() and word[-2:] in ("st", "nd", "rd", "th")
