"""How common an English word is, from the pinned ``wordfreq`` data (offline, in its wheel).

Names and towns that no list holds are still recognisable in lower-case ASR text by being rare
words: "raghunathan", "okeke", "zielinski" are, "router", "said", "polish" are not. Recognizers use
:func:`zipf` (log10 frequency per billion words: "the" ≈ 7.7, "router" ≈ 3.5, a rare surname
< 3) only next to a cue that already makes a name or place likely. :func:`rare_word` is the
stricter test truecasing and the cue readers share: rare, not a function word, and not a rare
inflection of a common word ("skimmed", "rattles"). The frequency table is read once, lazily.
"""

from __future__ import annotations

import math
from functools import cache

RARE = 3.0  # below this, an English word is rare enough to be a name next to a name cue
RARE_WORD = 3.0  # below this a word is raised: "bozeman" 2.7, "okafor" 2.6, "router" 3.5
_COMMON_STEM = 3.0  # "skimmed" is rare, "skim" is not: an inflection of a common word
_INFLECTIONS = ("ing", "ings", "ed", "es", "s", "er", "ers", "est", "ly", "ies", "ied", "d")
# Words that start or end a place's name: truecasing raises them next to a raised word, so the
# model reads "Lake Winnipesaukee", "Brazos County", "Whidbey Island"; found places grow over
# them.
PLACE_WORDS = frozenset({
    "lake", "lakes", "mount", "mountain", "mountains", "river", "island", "islands", "isle",
    "county", "parish", "bay", "valley", "creek", "peak", "falls", "springs", "beach",
    "heights", "hills", "canyon", "coast", "gulf", "sound", "forest", "hollow", "harbor",
    "harbour", "point", "cape", "fort", "port", "saint", "san", "santa", "north", "south",
    "east", "west", "new", "upper", "lower", "city", "town", "village", "township", "bridge",
})


@cache
def _freq() -> dict[str, float]:
    import wordfreq

    return wordfreq.get_frequency_dict("en")


def zipf(word: str) -> float:
    """Zipf frequency of ``word`` (lower case) in English; 0.0 for a word never seen."""
    f = _freq().get(word.lower().replace("\u2019", "'"))
    return math.log10(f) + 9 if f else 0.0


def is_rare(word: str, threshold: float = RARE) -> bool:
    return zipf(word) < threshold


@cache
def stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {"um", "uh", "hmm", "yeah", "okay", "ok", "gonna", "wanna"}


def _bare(word: str) -> str:
    word = word.replace("\u2019", "'")
    return word[:-2] if word.endswith("'s") else word


def _inflected(word: str) -> bool:
    """A rare form of a common word: "skimmed" (skim), "rattles" (rattle), "dented" (dent)."""
    for suffix in _INFLECTIONS:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        stem = word[:-len(suffix)]
        stems = {stem, stem + "e", stem + "y"}
        if len(stem) >= 2 and stem[-1] == stem[-2]:
            stems.add(stem[:-1])  # "skimmed" → "skim"
        if any(zipf(s) >= _COMMON_STEM for s in stems):
            return True
    return False


@cache
def rare_word(word: str) -> bool:
    """Whether a lower-case word is rare enough in English to be a name or a place."""
    bare = _bare(word)
    if len(bare) < 3 or "'" in bare or bare in stop_words():
        return False
    return zipf(bare) < RARE_WORD and not _inflected(bare)
