"""Street addresses: a house number (digits or words), a street name, a suffix, maybe a unit.

"1234 Maple Avenue", "twelve thirty four north Elm street apartment five B", "221B Baker St".
After the agent asks for an address, a number followed by a capitalised name is enough.
Pure logic.
"""

from __future__ import annotations

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.spoken import NumberRun, Token

DETECTOR = "address"

SUFFIXES = frozenset({
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive",
    "dr", "court", "ct", "way", "place", "pl", "terrace", "ter", "circle", "cir", "parkway",
    "pkwy", "highway", "hwy", "square", "sq", "trail", "trl", "loop", "alley", "crescent",
    "close", "row", "plaza", "pike", "run",
})
_UNIT_WORDS = frozenset({"apartment", "apt", "unit", "suite", "ste", "#", "number", "flat"})
# Words that cannot be part of a street name: the lead-in or the rest of the sentence.
_STOP = frozenset({
    "i", "my", "is", "at", "on", "in", "the", "a", "to", "and", "it's", "its", "live", "it",
    "was", "for", "of", "we", "you", "me", "by", "from", "or", "that", "this", "about", "with",
    "minutes", "hours", "days", "dollars", "times", "items", "people",
})
_MAX_NAME_WORDS = 4


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    ends = {run.last: run for run in view.runs}
    # Indexed once: scanning every run for each address made long utterances quadratic.
    firsts: dict[int, NumberRun] = {}
    for run in view.runs:
        firsts.setdefault(run.first, run)
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if tok.low not in SUFFIXES or k == 0:
            continue
        start = _house_number(toks, ends, k)
        if start is None:
            continue
        end = _unit(toks, firsts, k)
        out.append(Finding("STREET_ADDRESS", start, toks[end].end, 0.85, DETECTOR))
    if Topic.ADDRESS in view.context.asked and not out:
        out.extend(_bare(view))
    return out


def _house_number(toks: list[Token], ends: dict[int, NumberRun], k: int) -> int | None:
    """Start offset of the house number before the street name ending at suffix ``k``."""
    j = k - 1
    words = 0
    while j >= 0 and words < _MAX_NAME_WORDS:
        if j in ends and words > 0:
            return ends[j].start
        tok = toks[j]
        if tok.low in _STOP or not tok.text[0].isalnum():
            return None
        if tok.text[0].isdigit() and not tok.text.isdigit():
            # "221B Baker", "42nd Street": a house number with a letter, or an ordinal street.
            if j > 0 and j - 1 in ends:
                return ends[j - 1].start
            if words > 0:
                return tok.start
        words += 1
        j -= 1
    return None


def _unit(toks: list[Token], firsts: dict[int, NumberRun], k: int) -> int:
    """Extend past "apartment 5B", "suite 200", "unit four"."""
    j = k + 1
    if j < len(toks) and toks[j].text == ",":
        j += 1
    if j < len(toks) and toks[j].low in _UNIT_WORDS:
        # Runs do not overlap, so one starting at j + 1 comes before one starting at j + 2.
        run = firsts.get(j + 1) or firsts.get(j + 2)
        if run is not None:
            end = run.last
            if end + 1 < len(toks) and len(toks[end + 1].text) == 1 \
                    and toks[end + 1].text.isalpha():
                end += 1
            return end
        if j + 1 < len(toks) and toks[j + 1].text.isalnum():
            return j + 1
    return k


def _bare(view: View) -> list[Finding]:
    """After "what's the address?": a number and one to three capitalised words."""
    toks = view.tokens
    for run in view.runs:
        j = run.last + 1
        while j < len(toks) and j - run.last <= 3 and toks[j].text[:1].isupper():
            j += 1
        if j - run.last > 1:
            return [Finding("STREET_ADDRESS", run.start, toks[j - 1].end, 0.6, DETECTOR)]
    return []
