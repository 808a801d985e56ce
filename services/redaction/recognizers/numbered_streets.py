"""Streets whose number comes after the name, as most of Europe and Latin America write them:
"Laukaantie 26", "ul. Opałowa 47", "Rua Diadema 1903", "Tømmeråsen 87, Kristiansand", and the
same with a building number before ("42335 Luchthavenweg 179 apt 824 Helsinki"), then their unit,
town, country and postcode (``address._tail``). No street type is needed, so the name must look
like one in another way:

- between two numbers ("4042 hlíðarvegur twenty five"): name words, none a function word, and
  either a unit after ("… 55 suite 890") or a name word rare in English;
- after "on", "at", "of", "in", "to", "from" ("the bus station is on rua diadema 1903"): name
  words whose last is rare in English ("on page 23", "at gate 12", "in windows 11" are common).

A number followed by a measure ("… 3 years", "… 10 dollars") is a quantity, not a house number.
Pure logic; one pass over the number runs, each looking back and ahead a bounded number of tokens.
"""

from __future__ import annotations

from services.redaction.recognizers import address
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import RARE, zipf
from services.redaction.spoken import NumberRun, Token

DETECTOR = "address"
_MAX_WORDS = 4
_HOUSE_DIGITS = 6  # a building number, or two said together ("5836 58 sandyhill")
_STREET_DIGITS = 4
_CUES = frozenset({"on", "at", "of", "in", "to", "from", "and", "is", "address"})
# Inside a street's name: particles ("rue du bourgmestre", "san pietro ad aram") and the marks
# abbreviations and joined names leave ("ul.", "c/", "Cádiz-Málaga").
_JOINERS = frozenset({".", "/", "-", "'"})
_MEASURES = frozenset({
    "years", "year", "months", "month", "weeks", "week", "days", "day", "hours", "hour",
    "minutes", "minute", "seconds", "dollars", "dollar", "bucks", "cents", "euros", "pounds",
    "percent", "times", "items", "people", "pm", "am", "o'clock", "kids", "miles", "mile",
    "km", "kilometers", "feet", "inches", "pieces", "points", "stars", "gb", "tb", "mb",
})


def _name_words(toks: list[Token], first: int, last: int) -> list[Token] | None:
    """The words of a street name in ``toks[first..last]``, or None if it cannot be one."""
    words: list[Token] = []
    stop = address._stop_words()
    for t in toks[first:last + 1]:
        if t.text in _JOINERS:
            continue
        if not t.text.isalpha():
            return None
        if t.low in stop and t.low not in address._PARTICLES and t.low not in address._TYPE_FIRST:
            return None
        words.append(t)
    if not words or len(words) > _MAX_WORDS or words[0].low in address._PARTICLES \
            or words[-1].low in address._PARTICLES:
        return None
    return words


def _rare(t: Token) -> bool:
    return zipf(t.low) < RARE and t.low not in address._NUMBER_WORDS


def _after(toks: list[Token], run: NumberRun) -> int:
    """Index of the last token of a street number: a street type after it goes with it
    ("Kirchstrasse 2 St.")."""
    end = run.last
    if end + 1 < len(toks) and toks[end + 1].low in address.SUFFIXES:
        end += 1
    return end


def _unit_after(toks: list[Token], j: int) -> bool:
    if j < len(toks) and toks[j].text == ",":
        j += 1
    return j < len(toks) and toks[j].low in address._UNIT_WORDS


def recognize(view: View) -> list[Finding]:
    toks, runs = view.tokens, view.runs
    firsts: dict[int, NumberRun] = {}
    for r in runs:
        firsts.setdefault(r.first, r)
    out: list[Finding] = []
    for i, run in enumerate(runs):
        if len(run.digits) > _STREET_DIGITS or run.first == 0:
            continue
        nxt = run.last + 1
        if nxt < len(toks) and toks[nxt].low in _MEASURES:
            continue
        lo = max(0, run.first - _MAX_WORDS - 2)
        start: int | None = None
        prev = runs[i - 1] if i > 0 else None
        if prev is not None and prev.last >= lo and len(prev.digits) <= _HOUSE_DIGITS:
            words = _name_words(toks, prev.last + 1, run.first - 1)
            if words and (_unit_after(toks, nxt) or any(_rare(w) for w in words)):
                start = prev.start
        if start is None:
            j = run.first - 1
            while j > lo and toks[j - 1].low not in _CUES and (
                    toks[j - 1].text in _JOINERS or toks[j - 1].text.isalpha()):
                j -= 1
            if j > 0 and toks[j - 1].low in _CUES:
                words = _name_words(toks, j, run.first - 1)
                if words and _rare(words[-1]):
                    start = toks[j].start
        if start is None:
            continue
        end = _after(toks, run)
        unit = address._unit(toks, firsts, end)
        end = address._tail(view, firsts, address._unit(toks, firsts, unit))
        out.append(Finding("STREET_ADDRESS", start, toks[end].end, 0.75, DETECTOR))
    return out
