"""Names said with no "my name is" before them, found by their shape or by what they do: a first
name, an initial and a surname ("sophia a wirth", "takumi s ootsuki"); a listed first name and a
surname ("breogan orosco", "juljan lančič"); a name before a verb only a person does ("bibulat
shouted at", "hildebrant began writing"), after "says" at a clause's end ("says pettersson"),
after "named him", or spoken to at a line's start ("Khasbulat, can I …").

Every word must be a name on the multi-locale lists (Faker's person providers, see
bench/build_name_lists.py) and uncommon in English, or a rare word; places, groups and stop
words never are, and a name takes no determiner, so "the driver said", "john a call", "italy
says", "the kia picanto" stay (an initial between the words still makes a name: "the anna k
wojcik version"). Pure logic; each rule
looks at most three tokens either side of each token, so it stays linear.
"""

from __future__ import annotations

from functools import lru_cache

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import rare_word, zipf
from services.redaction.recognizers.names import TRAPS, is_first_name, is_last_name
from services.redaction.recognizers.places import NRP_WORDS, is_place, stop_words
from services.redaction.spoken import Token

DETECTOR = "names"
_WORDS_CACHED = 1 << 16  # words judged once each; bounded, as transcripts bring new words
_LISTED_MAX = 3.5  # a listed name this common in English is a word first ("bell", "wood")
_INITIAL_MAX = 4.0  # after the initial "a" the surname must be rarer ("maria a call")
_FIRST_BEFORE_INITIAL = 4.5  # "sophia k wirth": an initial vouches for a commoner first name
# Verbs of a person's voice or deed right after their name.
_ACTS = frozenset({
    "shouted", "yelled", "screamed", "whispered", "exclaimed", "replied", "sighed", "laughed",
    "smiled", "nodded", "cried", "began", "insisted", "muttered", "shrugged",
})
_SAYS = frozenset({"says", "said", "asks", "asked", "adds", "added", "explains", "explained"})
_HIM = frozenset({"him", "her", "them"})
# A name takes no determiner: "the kia picanto", "my honda jazz" are things.
_DETERMINERS = frozenset({"the", "a", "an", "my", "your", "our", "their", "his", "her", "its",
                          "this", "that", "these", "those", "no", "some", "any", "every"})
# What a person makes, after their name said as a thing's ("the lettiere novel", "shelton's
# song").
_WORKS = frozenset({
    "novel", "novels", "song", "songs", "album", "albums", "version", "concert", "film",
    "films", "movie", "movies", "book", "books", "poem", "poems", "lyrics", "memoir",
    "biography", "painting", "paintings", "symphony", "opera", "sonata", "verses",
})
_CLAUSE_END = frozenset({".", ",", "!", "?", ";", ":", "in", "on", "and", "but", "who"})


def _bare(low: str) -> str:
    low = low.replace("\u2019", "'")
    return low[:-2] if low.endswith("'s") else low


@lru_cache(maxsize=_WORDS_CACHED)
def _plain(low: str) -> bool:
    return low.isalpha() and len(low) >= 2 and low not in stop_words() \
        and low not in NRP_WORDS and low not in TRAPS and not is_place(low)


@lru_cache(maxsize=_WORDS_CACHED)
def _first_word(low: str, common: float) -> bool:
    """``low`` as said (with its "'s") is a listed first name this uncommon in English."""
    bare = _bare(low)
    return _plain(bare) and is_first_name(bare) and zipf(bare) < common


@lru_cache(maxsize=_WORDS_CACHED)
def _last_word(low: str, common: float) -> bool:
    """``low`` as said is a listed surname this uncommon in English, or a rare word."""
    bare = _bare(low)
    return _plain(bare) and ((is_last_name(bare) and zipf(bare) < common) or rare_word(bare))


def _first(t: Token, common: float = _LISTED_MAX) -> bool:
    return _first_word(t.low, common)


def _last(t: Token, common: float = _LISTED_MAX) -> bool:
    return _last_word(t.low, common)


def _named(t: Token) -> bool:
    """A single word that is a name: a listed first or last name, or a rare word."""
    return _first(t) or _last(t)


def _shape(toks: list[Token], i: int) -> int:
    """Index after a full name starting at ``i`` by its shape alone, or ``i``."""
    n = len(toks)
    if not _first(toks[i], _FIRST_BEFORE_INITIAL) or toks[i].low.endswith("'s"):
        return i
    if i + 2 < n and len(toks[i + 1].text) == 1 and toks[i + 1].text.isalpha() \
            and toks[i + 1].low != "i":
        common = _INITIAL_MAX if toks[i + 1].low == "a" else _LISTED_MAX
        if _last(toks[i + 2], common):
            return i + 3
    if i + 1 >= n or not _first(toks[i]) or not _last(toks[i + 1]):
        return i
    if i and toks[i - 1].low in _DETERMINERS and not is_last_name(_bare(toks[i + 1].low)):
        return i  # "the kia picanto"; "the kosara reisl version" has a listed surname
    return i + 2


def _alone(toks: list[Token], k: int) -> bool:
    """A lone name by what surrounds it."""
    n = len(toks)
    nxt = toks[k + 1].low if k + 1 < n else "."
    if nxt in _ACTS:
        return True
    if k + 3 < n and nxt == "who" and toks[k + 2].low == "are" and toks[k + 3].low == "you":
        return True
    prev = toks[k - 1].low if k else ""
    if nxt in _WORKS and (prev in ("the", "a", "an") or toks[k].low.endswith("'s")):
        return True
    if prev in _SAYS and nxt in _CLAUSE_END:
        return True
    if k >= 2 and prev in _HIM and toks[k - 2].low == "named":
        return True
    # Spoken to or labelled at a line's start, written with its capital: "Khasbulat, can I".
    return k == 0 and toks[k].text[:1].isupper() and nxt in (",", ":")


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    k = 0
    while k < len(toks):
        end = _shape(toks, k)
        if end > k:
            last = toks[end - 1]
            stop = last.end - 2 if last.low.endswith(("'s", "\u2019s")) else last.end
            out.append(Finding("PERSON", toks[k].start, stop, 0.6, DETECTOR))
            k = end
            continue
        if _alone(toks, k) and _named(toks[k]):
            t = toks[k]
            stop = t.end - 2 if t.low.endswith(("'s", "\u2019s")) else t.end
            out.append(Finding("PERSON", t.start, stop, 0.6, DETECTOR))
        k += 1
    return out
