"""How common an English word is, from the pinned ``wordfreq`` data (offline, in its wheel).

Names and towns that no list holds are still recognisable in lower-case ASR text by being rare
words: "raghunathan", "okeke", "zielinski" are, "router", "said", "polish" are not. Recognizers use
:func:`zipf` (log10 frequency per billion words: "the" ≈ 7.7, "router" ≈ 3.5, a rare surname
< 3) only next to a cue that already makes a name or place likely. The frequency table is read
once, lazily.
"""

from __future__ import annotations

import math
from functools import cache

RARE = 3.0  # below this, an English word is rare enough to be a name next to a name cue


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
