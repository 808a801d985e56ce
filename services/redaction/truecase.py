"""Truecasing lower-case ASR text for spaCy's NER.

spaCy's small English model finds places and people mostly by their capitals; an ASR transcript
has none, so "we live in wapakoneta" or "the booking is for oluwaseun adebayo" go unseen, while
"Wapakoneta" and "Oluwaseun Adebayo" are found. A word that ordinary English rarely uses (the
pinned ``wordfreq`` data, ``lexicon.zipf``) is far more often a name or a place than a common
noun, so such words get their first letter upper-cased before the model reads the line; a rare
inflection of a common word ("skimmed", "rattles") and function words stay lower case. Only the
case of first letters changes, never the length, so every offset spaCy reports is an offset of
the original text. The set of upper-cased offsets goes with the text: a detector can require
that a span holds a word truecasing raised (a span with none is what spaCy would have found
anyway). Text that already has capitals is left alone. Pure logic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.redaction.recognizers.lexicon import PLACE_WORDS, rare_word, stop_words

_WORD = re.compile(r"[a-z]+(?:['\u2019][a-z]+)?")
# A written capital past a sentence start (other than "I"): the text is cased already.
_CASED = re.compile(r"(?<![.!?]\s)(?<!^)\b(?!I\b|I['\u2019])[A-Z]")
# Spoken emails and URLs ("olga dot ivanova at mail dot ru"): their words stay as they are, the
# email and URL readers take them whole.
_JOINERS = frozenset({"dot", "underscore", "slash", "dash", "hyphen"})


@dataclass(frozen=True, slots=True)
class Truecased:
    text: str
    raised: frozenset[int]  # offsets of the first letters upper-cased

    def raised_in(self, start: int, end: int) -> bool:
        """Whether a word truecasing raised starts inside ``[start, end)``."""
        return any(start <= at < end for at in self.raised)


def is_cased(text: str) -> bool:
    return _CASED.search(text) is not None


def _joined(words: list[str], k: int) -> bool:
    return (k > 0 and words[k - 1] in _JOINERS) or (k + 1 < len(words)
                                                    and words[k + 1] in _JOINERS)


def is_listed_name(word: str) -> bool:
    from services.redaction.recognizers.names import first_names, last_names

    return word not in stop_words() and (word in first_names() or word in last_names())


def truecase(text: str) -> Truecased:
    """``text`` with its rare words (and place words next to them) capitalised; unchanged when
    it already has capitals."""
    if is_cased(text):
        return Truecased(text, frozenset())
    words = list(_WORD.finditer(text))
    low = [m.group() for m in words]
    raise_at = [rare_word(w) and not _joined(low, k) for k, w in enumerate(low)]
    # Place words and listed names next to a raised word go with it: "Lake Winnipesaukee",
    # "Park Ji Hoon" (spaCy reads a half-capitalised name worse than a lower-case one).
    for k, w in enumerate(low):
        if not raise_at[k] and (w in PLACE_WORDS or is_listed_name(w)) and (
                (k > 0 and raise_at[k - 1] and words[k - 1].end() + 1 == words[k].start())
                or (k + 1 < len(words) and raise_at[k + 1]
                    and words[k].end() + 1 == words[k + 1].start())):
            raise_at[k] = True
    if not any(raise_at):
        return Truecased(text, frozenset())
    chars = list(text)
    raised = []
    for m, up in zip(words, raise_at, strict=True):
        if up:
            chars[m.start()] = chars[m.start()].upper()
            raised.append(m.start())
    return Truecased("".join(chars), frozenset(raised))
