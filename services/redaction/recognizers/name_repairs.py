"""A found name's missing parts, in the shapes callers say names in, read after the other
recognizers (``engine.findings``):

- the surname after a found first name, even one that is an English word: "ship it to my mom
  carol | young not me", "my landlord gary | winter actually", "the reservation for deshawn |
  carter from chicago", "ebony | marshall-young" (a listed surname, then the clause ends);
- a word said, a hesitation, then the name it started: "its price uh tameka price", "yeah
  will uh will pierce", "mo uh mohammed abu saleh", "Grace. Grace Yazzie." (the word is a word
  of the found name, or the start of its first word); with no pause, the surname said before
  the whole name: "this is king darnell king";
- a word-like name opening a short reply, glossed: "chase like the bank", "june like the
  month";
- a name stammered: "miles miles brooks", "sterling sterling okafor" (a first name said twice
  and a surname);
- a generation after a name: "ray long senior", "robert e hale the third";
- initials and a surname after a title or as a whole reply: "doctor a k mensah", "t j young";
- a word-like surname after "mister": "is mister winter aware of the leak";
- a hyphenated first name before a found surname in cased text: "Mei-Ling Chen".

Each finding and each token looks a fixed number of tokens around it, so the work stays linear.
Pure logic.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import stop_words
from services.redaction.recognizers.names import (
    _TITLES,
    TRAPS,
    first_name_like,
    first_names,
    is_last_name,
    last_names,
    listed_name,
    surname_like,
)
from services.redaction.recognizers.places import NRP_WORDS, is_place
from services.redaction.recognizers.vocatives import WORD_NAMES
from services.redaction.spoken import Token

DETECTOR = "names:repair"
# After a surname that is also a word, what shows the name ended: the line or clause ends.
_AFTER_SURNAME = frozenset({
    "", ",", ".", "?", "!", "not", "actually", "she's", "he's", "it's", "its", "from", "and",
    "i", "i'm", "but", "sorry", "uh", "um", "please", "who", "that's", "thats", "she", "he",
    "like", "again", "here", "speaking", "calling", "to", "is", "was", "my", "no", "right",
    "correct", "yes", "yeah",
})
# Between a word and the name it started: a hesitation or a repair.
_RESTART = frozenset({"uh", "um", "er", "erm", "ah", "sorry", "no", ".", ",", "i", "mean",
                      "oh", "hmm", "wait"})
_RESTART_GAP = 3
_TRUE_MODALS = frozenset({"will", "may", "can", "might", "must"})
_GLOSS_LINE = 8  # a short reply: "chase like the bank"
_PLAIN_TITLES = frozenset({"mr", "mrs", "ms", "mister", "missus", "mx"})
_GENERATIONS = frozenset({"junior", "senior", "jr", "sr"})
_ORDINALS = frozenset({"second", "third", "fourth", "fifth", "2nd", "3rd", "4th"})
_OPENERS = frozenset({"hi", "hello", "yeah", "yes", "um", "uh", "oh", "so", "it's", "its",
                      "is", "this"})


def _first_like(low: str) -> bool:
    return first_name_like(low) or low in WORD_NAMES


def _surname_word(t: Token) -> bool:
    """A listed surname, word-like ones ("young", "price", "winter") included."""
    low = t.low
    return t.text.isalpha() and low not in NRP_WORDS and (
        low in last_names() or low in TRAPS or (listed_name(low) and low not in first_names())) \
        and low not in _TRUE_MODALS


def _nxt(toks: list[Token], k: int) -> str:
    return toks[k].low if k < len(toks) else ""


def _surname_after(toks: list[Token], first: int, last: int) -> int:
    """Index of the last token of a surname after a name ``first..last`` holding a first name
    ("carol", "chris topher chris topher"), or ``last``."""
    k = last + 1
    if k >= len(toks) or not _surname_word(toks[k]) \
            or not any(_first_like(t.low) for t in toks[first:last + 1]):
        return last
    if k + 2 < len(toks) and toks[k + 1].text == "-" and toks[k + 2].text.isalpha():
        return k + 2  # "ebony marshall-young"
    return k if _nxt(toks, k + 1) in _AFTER_SURNAME else last


def _generation_after(toks: list[Token], last: int) -> int:
    """"ray long senior", "robert e hale the third": index of the generation's last token."""
    k = last + 1
    if k < len(toks) and toks[k].low in _GENERATIONS and _nxt(toks, k + 1) in _AFTER_SURNAME:
        return k
    if k + 1 < len(toks) and toks[k].low == "the" and toks[k + 1].low in _ORDINALS \
            and _nxt(toks, k + 2) in _AFTER_SURNAME:
        return k + 1
    return last


def _restart(toks: list[Token], first: int) -> int:
    """Index of a word said before a hesitation and the found name starting at ``first`` that
    it started ("price uh tameka price", "mo uh mohammed"), or -1."""
    j = first - 1
    while j >= 0 and first - j <= _RESTART_GAP and toks[j].low in _RESTART:
        j -= 1
    if j < 0:
        return -1
    w = toks[j]
    if not w.text.isalpha() or len(w.low) < 2 or (w.low in stop_words() and w.low not in TRAPS):
        return -1
    return j


def _said_in(w: Token, name: Sequence[Token], paused: bool) -> bool:
    """Whether ``w`` started the name: one of its words, or the start of its first word, after
    a pause; right before it, only its last word ("this is king darnell king")."""
    words = [t.low for t in name if t.text.isalpha()]
    if not words:
        return False
    if not paused:
        return len(words) >= 2 and w.low == words[-1]
    return w.low in words or (words[0].startswith(w.low) and len(w.low) >= 2)


def _stammered(toks: list[Token], k: int) -> int:
    """"miles miles brooks": index after a first name said twice and a surname, or ``k``."""
    if k + 2 >= len(toks) or toks[k].low != toks[k + 1].low or not _first_like(toks[k].low):
        return k
    s = toks[k + 2]
    if s.low == toks[k].low or not (is_last_name(s.low) or surname_like(s)
                                    or (_surname_word(s) and _nxt(toks, k + 3) in _AFTER_SURNAME)):
        return k
    return k + 3


def _generation_name(toks: list[Token], k: int) -> int:
    """"my dad is ray long senior": a first name, a surname and a generation, or ``k``."""
    if k + 2 < len(toks) and _first_like(toks[k].low) and _surname_word(toks[k + 1]) \
            and toks[k + 2].low in ("junior", "senior"):
        return k + 3
    return k


def _titled(toks: list[Token], k: int) -> int:
    """"is mister winter aware", "mrs hope called": after "mr", "mrs", "ms", "mister", a
    word-like surname (never a modal: "mister will you"), index after, or ``k``."""
    if k < 1 or toks[k - 1].low.rstrip(".") not in _PLAIN_TITLES:
        return k
    t = toks[k]
    if not t.text.isalpha() or t.low in _TRUE_MODALS or t.low in NRP_WORDS \
            or not (t.low in TRAPS or listed_name(t.low) or surname_like(t)):
        return k
    return k + 1


def _glossed(toks: list[Token], k: int) -> int:
    """"chase like the bank", "june like the month": a word-like name opening a short reply and
    glossed by what else it means; index after, or ``k``."""
    if len(toks) > _GLOSS_LINE or k + 2 >= len(toks) or toks[k + 1].low not in ("like", "as") \
            or toks[k + 2].low not in ("the", "in") or not _first_like(toks[k].low) \
            or toks[k].low in _TRUE_MODALS or not all(t.low in _OPENERS for t in toks[:k]):
        return k
    return k + 1


def _initials(t: Token) -> bool:
    return len(t.text) == 1 and t.text.isalpha()


def _initialled(toks: list[Token], k: int) -> int:
    """"doctor a k mensah", "t j young" as the whole reply: index after, or ``k``."""
    if k + 2 >= len(toks) or not (_initials(toks[k]) and _initials(toks[k + 1])):
        return k
    s = toks[k + 2]
    if not s.text.isalpha() or len(s.text) < 2 or s.low in NRP_WORDS \
            or (is_place(s.low) and not listed_name(s.low)):
        return k
    titled = k >= 1 and toks[k - 1].low.rstrip(".") in _TITLES
    if titled and (surname_like(s) or _surname_word(s)):
        return k + 3
    alone = all(t.low in _OPENERS for t in toks[:k]) and k + 3 == len(toks) \
        and not (toks[k].low in "aio" or toks[k + 1].low in "aio")
    return k + 3 if alone and _surname_word(s) else k


def _may_start(toks: list[Token], k: int) -> bool:
    """A cheap test of whether any token rule can start at ``k`` (a stammer, a generation two
    words on, an initial, a title before, a gloss after)."""
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    return nxt == toks[k].low or nxt in ("like", "as") or len(toks[k].text) == 1 \
        or (k + 2 < len(toks) and toks[k + 2].low in ("junior", "senior")) \
        or (k >= 1 and toks[k - 1].low.rstrip(".") in _PLAIN_TITLES)


def repaired(view: View, findings: Sequence[Finding], *, tokens: bool = True) -> list[Finding]:
    """Further PERSON findings (or longer ones) for the shapes above; ``tokens=False``: only
    around the given findings (the rules that read tokens alone already ran)."""
    toks = view.tokens
    out: list[Finding] = []
    for f in findings:
        if f.entity_type != "PERSON":
            continue
        at = view.token_range(f.start, f.end)
        if at is None:
            continue
        first, last = at
        end = _generation_after(toks, _surname_after(toks, first, last))
        if end > last:
            out.append(Finding("PERSON", f.start, toks[end].end, f.score, DETECTOR))
        if first >= 3 and toks[first].text[:1].isupper() and toks[first - 2].text == "-" \
                and toks[first - 1].text[:1].isupper() and toks[first - 3].text[:1].isupper() \
                and toks[first - 1].text.isalpha() and toks[first - 3].text.isalpha():
            # "Mei-Ling Chen": a hyphenated first name before a found surname
            out.append(Finding("PERSON", toks[first - 3].start, f.end, f.score, DETECTOR))
        j = _restart(toks, first)
        if j >= 0 and _said_in(toks[j], toks[first:end + 1], j < first - 1):
            out.append(Finding("PERSON", toks[j].start, toks[j].end, f.score, DETECTOR))
    for k in range(len(toks) if tokens else 0):
        if not _may_start(toks, k):
            continue
        end = max(_stammered(toks, k), _generation_name(toks, k), _initialled(toks, k),
                  _titled(toks, k), _glossed(toks, k))
        if end > k:
            out.append(Finding("PERSON", toks[k].start, toks[end - 1].end, 0.6, DETECTOR))
    return out
