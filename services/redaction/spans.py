"""Growing a found name or place over the words that belong to it.

spaCy on truecased ASR text often finds part of a name or place: "Diallo" of "fatoumata diallo",
"Lanta" of "koh lanta", "Mull" of "the isle of mull". A partial span leaks the rest, so a PERSON
grows over the name-like words next to it (listed names and words rare in English, as
``names.surname_like`` reads them) and a LOCATION over the rare words and place words ("lake",
"county", "isle of") next to it. Callers also hesitate inside a name ("tomasz uh nowak", "san
luis um obispo"): a finding goes on across a filler when a word of the same kind, or another
finding of the same type, follows it. Each finding looks at a bounded number of tokens on each
side, so the work stays linear in the utterance. Pure logic.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import PLACE_WORDS, rare_word, zipf
from services.redaction.recognizers.names import extend, surname_like
from services.redaction.spoken import Token

FILLERS = frozenset({"uh", "um", "er", "erm", "ah", "uhm", "hmm", "mm"})
_REACH = 2  # words a finding may grow on each side
_UNKNOWN = 1.5  # a word this rare after a place goes with it ("brdy"); "cheesesteak" 2.3 not
_OF = frozenset({"isle", "island", "islands", "lake", "mount", "county", "city", "town",
                 "village", "parish", "bay", "cape", "gulf", "sea", "port", "fort"})
_BRIDGED = frozenset({"PERSON", "LOCATION"})
# Written with a capital after "Dana R", a word this common can still be a surname ("Rivas",
# "Whitfield", "Costa"); "Friday" and "Street" are not.
_CAPITAL_SURNAME = 4.0
_WITH = frozenset({"and", ",", "&"})
_LISTED_WITH = 4.0  # after "kowalski and": "nowak" (1.9), "harper" (3.7); not "then", "family"


class Grower:
    """The growing rules on one utterance; token lookups by offset are binary searches, so
    each finding costs a bounded number of steps."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.toks = view.tokens
        self._index = view.token_range

    def person(self, start: int, end: int) -> tuple[int, int]:
        """A PERSON span over its particles and the name-like words around it."""
        at = self._index(start, end)
        if at is None:
            return start, end
        toks = self.toks
        at = extend(toks, *at)
        first, last = at
        while first > 0 and at[0] - first < _REACH and surname_like(toks[first - 1]):
            first -= 1
        while last + 1 < len(toks) and last - at[1] < _REACH and surname_like(toks[last + 1]):
            last += 1
        last = _initial_after(toks, last)
        first = _initial_before(toks, first)
        last = _suffix_after(toks, last)
        return min(start, toks[first].start), max(end, toks[last].end)

    def place(self, start: int, end: int) -> tuple[int, int]:
        """A LOCATION span over the rare words and place words around it: "koh lanta", "isle
        of mull", "flathead lake"."""
        at = self._index(start, end)
        if at is None:
            return start, end
        toks = self.toks
        first, last = at
        while first > 0 and at[0] - first < _REACH:
            if _place_word(toks[first - 1]):
                first -= 1
            elif first > 1 and toks[first - 1].low == "of" and toks[first - 2].low in _OF:
                first -= 2  # "the isle of mull"
            else:
                break
        # on the right place words and unknown words: "flathead lake", "hostomice pod brdy",
        # not "philly cheesesteak"
        while last + 1 < len(toks) and last - at[1] < _REACH and toks[last + 1].text.isalpha() \
                and (toks[last + 1].low in PLACE_WORDS
                     or (rare_word(toks[last + 1].low) and zipf(toks[last + 1].low) < _UNKNOWN)):
            last += 1
        return toks[first].start, toks[last].end

    def grown(self, f: Finding) -> Finding:
        if f.entity_type == "PERSON":
            start, end = self.person(f.start, f.end)
        elif f.entity_type == "LOCATION":
            start, end = self.place(f.start, f.end)
        else:
            return f
        return f if (start, end) == (f.start, f.end) else \
            Finding(f.entity_type, start, end, f.score, f.detector)

    def bridge(self, findings: Sequence[Finding]) -> list[Finding]:
        """Findings joined across fillers: a PERSON or LOCATION followed by "uh"/"um" and then
        a finding of the same type, or a word of its kind ("tomasz uh nowak"), covers both."""
        findings = [self.grown(f) for f in findings]
        toks = self.toks
        starts: dict[int, list[Finding]] = {}
        for f in findings:
            starts.setdefault(f.start, []).append(f)
        extra: list[Finding] = []
        for f in findings:
            at = self._index(f.start, f.end) if f.entity_type in _BRIDGED else None
            if at is None:
                continue
            k, gap = at[1] + 1, 0
            while k < len(toks) and toks[k].low in FILLERS and gap < 2:
                k, gap = k + 1, gap + 1
            if gap == 0 or k >= len(toks):
                continue
            nxt = toks[k]
            joined = [g.end for g in starts.get(nxt.start, ()) if g.entity_type == f.entity_type]
            if joined:
                end = max(joined)
            elif f.entity_type == "PERSON" and surname_like(nxt):
                end = self.person(nxt.start, nxt.end)[1]
            elif f.entity_type == "LOCATION" and not self.view.is_agent and _place_word(nxt):
                end = self.place(nxt.start, nxt.end)[1]
            else:
                continue
            extra.append(Finding(f.entity_type, f.start, end, f.score, f.detector))
        for f in findings:
            if f.entity_type != "PERSON":
                continue
            for with_f in (self._listed_with(f), self._listed_before(f)):
                if with_f is not None:
                    extra.append(with_f)
        return [*findings, *extra]

    def _listed_with(self, f: Finding) -> Finding | None:
        """A name said with a found one: "kowalski and | nowak", "anna, | piotr": the word after
        "and" or a comma is a name when it is a listed name not common in English, or rare."""
        at = self._index(f.start, f.end)
        toks = self.toks
        if at is None or at[1] + 2 >= len(toks) or toks[at[1] + 1].low not in _WITH:
            return None
        t = toks[at[1] + 2]
        if not t.text.isalpha() or not surname_like(t) or zipf(t.low) >= _LISTED_WITH:
            return None
        start, end = self.person(t.start, t.end)
        return Finding("PERSON", start, end, f.score, f.detector)

    def _listed_before(self, f: Finding) -> Finding | None:
        """The same, said first: "reho and | harper", "gregersen, | white": the word before
        "and" or a comma, by the same test."""
        at = self._index(f.start, f.end)
        toks = self.toks
        if at is None or at[0] < 2 or toks[at[0] - 1].low not in _WITH:
            return None
        t = toks[at[0] - 2]
        if not t.text.isalpha() or not surname_like(t) or zipf(t.low) >= _LISTED_WITH:
            return None
        start, end = self.person(t.start, t.end)
        return Finding("PERSON", start, end, f.score, f.detector)


# Degrees and generations written after a name: "eric ward md", "Allison Silva PhD", "jr.".
_SUFFIXES = frozenset({"md", "phd", "dds", "dvm", "jr", "sr", "ii", "iii", "iv", "esq", "rn",
                       "cpa", "dmd", "do"})


def _suffix_after(toks: list[Token], last: int) -> int:
    """A name goes on over a degree or generation after it ("Silva PhD", "ward jr .");
    "do" only written in capitals ("Anna Lee DO"), as it is a verb otherwise."""
    k = last + 1
    if k < len(toks) and toks[k].low == ",":
        k += 1
    if k >= len(toks) or toks[k].low not in _SUFFIXES \
            or (toks[k].low == "do" and toks[k].text != "DO"):
        return last
    return k + 1 if k + 1 < len(toks) and toks[k + 1].text == "." else k


def _initial(toks: list[Token], i: int) -> int:
    """Tokens a middle initial takes at ``i`` ("T", "T ." , "t"), or 0. "a", "i" and "o" are
    words as often as initials: only written in capitals."""
    t = toks[i]
    if len(t.text) != 1 or not t.text.isalpha() or (t.low in "aio" and not t.text.isupper()):
        return 0
    return 2 if i + 1 < len(toks) and toks[i + 1].text == "." else 1


def _initial_after(toks: list[Token], last: int) -> int:
    """A name goes on over a middle initial and the surname after it: "Connie | T Rivas",
    "ane | n hansen"."""
    k = last + 1
    if k >= len(toks):
        return last
    step = _initial(toks, k)
    nxt = k + step
    if step and nxt < len(toks) and (surname_like(toks[nxt]) or (
            toks[last].text[:1].isupper() and toks[nxt].text[:1].isupper()
            and surname_like(toks[nxt], _CAPITAL_SURNAME))):
        return nxt
    return last


def _initial_before(toks: list[Token], first: int) -> int:
    """A name goes back over a middle initial and the first name before it: "ranko m |
    matković"."""
    for step in (1, 2):
        k = first - step
        if k < 1 or _initial(toks, k) != step:
            continue
        if surname_like(toks[k - 1]) or (toks[k - 1].text[:1].isupper()
                                         and toks[first].text[:1].isupper()
                                         and surname_like(toks[k - 1], _CAPITAL_SURNAME)):
            return k - 1
    return first


def _place_word(t: Token) -> bool:
    return t.text.isalpha() and (t.low in PLACE_WORDS or rare_word(t.low))
