"""Dates of birth and card expiry said with a month name: "March fourteenth nineteen eighty five",
"the fifth of May", "expires May twenty twenty six".

A date is identifying as a birth date (or a card expiry), and as the day of a life event said
with it ("my husband passed on october eleventh", "date of loss" → "september third"; HIPAA's
Safe Harbor counts death, admission and discharge dates), a DATE_TIME by ``dates:event``: "your
appointment is on March fifth" stays. A cue before the date or just after it ("…, that's my
dad's birthday") says which; a whole date (day, month and a year of the last century) is a
birth date without one. Numeric forms ("03/14/1985", "oh five twenty six") are number runs and
are classified in ``numbers.py``. Pure logic.
"""

from __future__ import annotations

import re

from services.redaction.context import Topic, topics
from services.redaction.recognizers.base import Finding, View
from services.redaction.spoken import TENS, UNITS, Token

DETECTOR = "dates"
EVENT_DETECTOR = "dates:event"  # a day something happened to someone, not a birth date
# What happened on a day that makes the day the caller's: life events, medical events, claims.
_EVENT = re.compile(
    r"\b(died|pass|passed|passing|death|deceased|funeral|buried|born|birth|delivered|due date"
    r"|accident|crash|crashed|collision|incident|rear ended|hit and run|totaled|totalled"
    r"|date of (?:the )?(?:loss|injury|death|accident|incident|surgery|admission|discharge)"
    r"|injury|injured|hurt|fell|fall|surgery|operation|diagnosed|diagnosis|admitted"
    r"|discharged|hospitali[sz]ed|stroke|heart attack|married|wedding|anniversary|divorced?"
    r"|break in|broke in|broken into|burglary|burglarized|stolen|theft|robbed|vandali[sz]ed"
    r"|hail|storm|flood|flooded|fire)\b")
_EVENT_REACH = 8  # words either side of the date

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
_AFTER_WORDS = 8
_DATES = frozenset({Topic.DOB, Topic.EXPIRY})
WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                      "sunday"})
FILLERS = frozenset({"uh", "um", "er", "erm", "uhm", "hmm"})


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
        start, end = tok.start, tok.end
        j = k - 1
        while j >= 0 and toks[j].low in FILLERS:  # "the eighth of uh march"
            j -= 1
        # "the fifth of March", and day first without "of": "twenty third September",
        # "23rd September", "23 September"
        if j >= 0 and toks[j].low == "of":
            j -= 1
        day = False
        if j >= 0 and (toks[j].low in ORDINALS or _is_numeric_ordinal(toks[j].low)):
            start, day = toks[j].start, True
            if j >= 1 and toks[j - 1].low in TENS:  # "the twenty second of"
                start = toks[j - 1].start
        elif j >= 0 and j == k - 1 and j in runs_by_last and len(runs_by_last[j].digits) <= 2:
            start, day = runs_by_last[j].start, True
        j, reached, year = k + 1, False, False
        while j < len(toks) and j - k <= _MAX_REACH:
            t = toks[j]
            if j in runs_by_first:
                run = runs_by_first[j]
                end, j, reached = run.end, run.last + 1, True
                year = year or _past_year(run.digits)
                day = day or len(run.digits) <= 2
                continue
            if t.low in ORDINALS or _is_numeric_ordinal(t.low) or t.low in ("the", "of", ",") \
                    or t.low in FILLERS:
                if t.low in ORDINALS or _is_numeric_ordinal(t.low):
                    end, reached, day = t.end, True, True
                j += 1
                continue
            break
        if not (reached or start < tok.start):
            continue
        # "my date of birth, um, let me think, is march third": the cue can be a while back,
        # or just after ("january ninth fifty two, that's my dad's birthday")
        before = view.local_topics(k, limit=14) or view.context.asked
        asked = (before & _DATES) or (_topics_after(toks, j) & _DATES)
        if not asked and _life_event(view, k, j):
            end = _year_said(toks, j, end)
            out.append(Finding("DATE_TIME", start, end, 0.7, EVENT_DETECTOR))
            continue
        if not asked and not (day and year):
            continue
        # a whole date of a year long past is a birth date, cue or none ("the first of april
        # nineteen ninety nine"); a date in the calendar ("march third") needs the cue
        entity = "DATE_OF_BIRTH" if Topic.DOB in asked or not asked else "CARD_EXPIRY"
        out.append(Finding(entity, start, end, 0.85 if asked else 0.6, DETECTOR))
    return out + _weekday_dates(view)


def _weekday_dates(view: View) -> list[Finding]:
    """"sunday the second", "last tuesday the fourteenth" said of an event (see
    :func:`_life_event`): a weekday with the day of the month."""
    toks = view.tokens
    out: list[Finding] = []
    for k in range(len(toks) - 2):
        if toks[k].low not in WEEKDAYS or toks[k + 1].low != "the":
            continue
        j = k + 2
        if toks[j].low in TENS and j + 1 < len(toks) and toks[j + 1].low in ORDINALS:
            j += 1  # "the twenty first"
        if toks[j].low not in ORDINALS and not _is_numeric_ordinal(toks[j].low):
            continue
        first = k - 1 if k and toks[k - 1].low in ("last", "this", "that", "past") else k
        if _life_event(view, first, j + 1):
            out.append(Finding("DATE_TIME", toks[first].start, toks[j].end, 0.6,
                               EVENT_DETECTOR))
    return out


def _year_said(toks: list[Token], j: int, end: int) -> int:
    """End of a date that goes on with its year said as time ago: "may twentieth last year",
    "valentine's day two years ago"."""
    if j + 1 < len(toks) and toks[j].low in ("last", "this", "that") \
            and toks[j + 1].low == "year":
        return toks[j + 1].end
    if j + 1 < len(toks) and toks[j].low in ("year", "years") and toks[j + 1].low == "ago":
        return toks[j + 1].end  # "march third three years ago": the number went with the date
    k = j
    while k < len(toks) and k - j < 3 and toks[k].low not in ("year", "years"):
        k += 1
    if k + 1 < len(toks) and k > j and toks[k + 1].low == "ago" and all(
            t.low in UNITS or t.low in TENS or t.low in ("a", "an", "few", "couple", "of")
            for t in toks[j:k]):
        return toks[k + 1].end
    return end


def _life_event(view: View, k: int, j: int) -> bool:
    """Whether a day of the calendar (tokens ``k``..``j``) is when something happened to the
    caller or their people: said near a death, a birth, an illness, a wedding, an accident or a
    loss, or asked for as one ("date of loss"). HIPAA's Safe Harbor counts every such date
    (admission, discharge, death) as identifying; "my flight is on march third" stays."""
    toks = view.tokens
    near = " ".join(t.low for t in toks[max(0, k - _EVENT_REACH):j + _EVENT_REACH])
    return bool(_EVENT.search(near) or _EVENT.search(view.context.question))


def _topics_after(toks: list[Token], j: int) -> frozenset[Topic]:
    """Topics said in the few words after a date (``j``: the token after it)."""
    return topics(" ".join(t.low for t in toks[j:j + _AFTER_WORDS]))


def _past_year(digits: str) -> bool:
    """A year of the last century ("nineteen fifty eight", "1958"): a date in it is not an
    appointment or a payment."""
    return len(digits) == 4 and digits.startswith("19")


def _may_is_month(view: View, k: int) -> bool:
    """Lower-case "may" (ASR) is the month in "the fifth of may" or "may fifth", not "may i"."""
    toks = view.tokens
    before = toks[k - 1].low if k else ""
    after = toks[k + 1].low if k + 1 < len(toks) else ""
    return before == "of" or after in ORDINALS or _is_numeric_ordinal(after) or any(
        r.first == k + 1 for r in view.runs)


def _is_numeric_ordinal(word: str) -> bool:
    return word[:-2].isdigit() and word[-2:] in ("st", "nd", "rd", "th")
