"""Names in cased, punctuated transcripts (Whisper, Deepgram): capitals say what ASR lower case
cannot, and the commas and stops around a name mark it off.

- a first and last name written with capitals mid-sentence: "Make the check out to Autumn
  Price and the shop"; or as a whole sentence: "Sky Winter.", "Bolanle Ogunleye. She's our
  office lead." (a first name, word-like ones too, or a word rare in English, then a listed
  surname or a rare word; never a place, a group or a possessive brand: "Trader Joe's");
- one capitalised first name ending a clause after "under", "to", "for", "with": "Can you put
  it under Dale?", "Send it to Fenella." (an unlisted rare word only after "under": "I work
  for Retroficiency" names a firm);
- a relation, a comma, a name: "email the receipt to my assistant, Fenella, as well";
- a relation's name after its owner's "'s": "my wife's Ananya and she's on the other line".

Only capitalised words are read (lower-case ASR lines yield nothing). Pure logic; each token
looks at most four tokens around it.
"""

from __future__ import annotations

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import rare_word, stop_words, zipf
from services.redaction.recognizers.names import (
    first_name_like,
    first_names,
    last_names,
    listed_name,
)
from services.redaction.recognizers.places import NRP_WORDS, is_place
from services.redaction.recognizers.roles import _ROLES
from services.redaction.recognizers.vocatives import WORD_NAMES
from services.redaction.spoken import Token

DETECTOR = "names:cased"
_ENDS = frozenset({".", "?", "!"})
_CLAUSE = frozenset({".", "?", "!", ",", ";"})
_LEADS = frozenset({"under", "to", "for", "with"})
_RELATIONS = _ROLES | frozenset({
    "wife", "husband", "son", "daughter", "mom", "mother", "dad", "father", "brother", "sister",
    "partner", "fiance", "fiancee", "girlfriend", "boyfriend", "aunt", "uncle", "niece",
    "nephew", "grandson", "granddaughter", "grandma", "grandpa", "grandmother", "grandfather",
    "stepson", "stepdaughter", "kid", "child", "spouse", "guardian", "caregiver", "doctor",
    "accountant", "lawyer", "attorney", "secretary", "physician", "stepmom", "stepdad",
})
_OWNERS = frozenset({"my", "our", "his", "her", "their"})
_UNHEARD_ONE = 2.5  # one word alone needs to be rarer: "Okonkwo", not "Stanford"
_UNHEARD = 3.0  # a capitalised word this rare is a name word: "Ogunleye", "Mahlangu"


def _capital(t: Token) -> bool:
    return t.text[:1].isupper() and t.text.isalpha() and not t.text.isupper() \
        and len(t.text) >= 2


def _first(t: Token) -> bool:
    low = t.low
    return _capital(t) and low not in NRP_WORDS and (
        first_name_like(low) or low in WORD_NAMES or (rare_word(low) and zipf(low) < _UNHEARD)) \
        and not (is_place(low) and low not in first_names())


def _last(t: Token) -> bool:
    low = t.low
    return _capital(t) and low not in NRP_WORDS and (
        low in last_names() or listed_name(low) or (rare_word(low) and zipf(low) < _UNHEARD)) \
        and not (is_place(low) and low not in last_names())


def _sentence_start(toks: list[Token], k: int) -> bool:
    return k == 0 or toks[k - 1].text in _ENDS


def _pair(toks: list[Token], k: int) -> bool:
    """A capitalised first and last name mid-sentence, or as a sentence of its own."""
    if k + 1 >= len(toks) or not (_first(toks[k]) and _last(toks[k + 1])):
        return False
    after = toks[k + 2].text if k + 2 < len(toks) else "."
    if after in ("'", "\u2019") or toks[k + 1].low.endswith("'s"):
        return False  # "Trader Joe's", "Jack Daniel's": shops and brands
    if _sentence_start(toks, k):
        return after in _ENDS  # "Sky Winter.", not "Will Smith said" (spaCy reads those)
    if k >= 1 and toks[k - 1].text[:1].isupper() and toks[k - 1].text.isalpha():
        return False  # "Martin Luther King", "Hyundai Santa Fe": a longer proper noun
    return not (k + 2 < len(toks) and toks[k + 2].text[:1].isupper()
                and toks[k + 2].text.isalpha())


def _led(toks: list[Token], k: int) -> bool:
    """"put it under Dale?", "send it to Fenella.": one capitalised name ending a clause."""
    t = toks[k]
    if k < 1 or toks[k - 1].low not in _LEADS or _sentence_start(toks, k) \
            or not (k + 1 == len(toks) or toks[k + 1].text in _CLAUSE):
        return False
    low = t.low
    if not _capital(t) or low in NRP_WORDS or is_place(low) or low in stop_words():
        return False
    # a rare unlisted word only after "under": "I work for Retroficiency" names a firm
    return first_name_like(low) \
        or (toks[k - 1].low == "under" and rare_word(low) and zipf(low) < _UNHEARD_ONE)


def _related(toks: list[Token], k: int) -> bool:
    """"my assistant, Fenella,", "my wife's Ananya"."""
    if k < 2 or not _capital(toks[k]) or toks[k].low in stop_words() \
            or toks[k].low in NRP_WORDS or is_place(toks[k].low):
        return False
    low = toks[k].low
    if not (first_name_like(low)
            or (rare_word(low) and zipf(low) < _UNHEARD_ONE)):
        return False
    prev = toks[k - 1].low
    if prev == ",":
        return k >= 3 and toks[k - 2].low in _RELATIONS and toks[k - 3].low in _OWNERS \
            and (k + 1 == len(toks) or toks[k + 1].text in _CLAUSE)
    return prev.endswith("'s") and prev[:-2] in _RELATIONS and toks[k - 2].low in _OWNERS


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    for k, t in enumerate(toks):
        if not t.text[:1].isupper():
            continue
        if _pair(toks, k):
            out.append(Finding("PERSON", t.start, toks[k + 1].end, 0.6, DETECTOR))
        elif _led(toks, k) or _related(toks, k):
            out.append(Finding("PERSON", t.start, t.end, 0.6, DETECTOR))
    return out
