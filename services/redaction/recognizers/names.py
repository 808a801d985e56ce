"""Names from the conversation: "my name is …", "this is …", "Mr. …", and answers to "your name?".

spaCy's NER (through Presidio) finds many names; transcripts defeat it when the name follows a
cue it has not learned or arrives as a bare answer ("Maria Gonzalez." after "who am I speaking
with?"). Strong cues take the next words whatever their case; weak cues ("this is", "I'm") only
take capitalised words that are not ordinary English. Pure logic.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.compounds import lexicalised
from services.redaction.recognizers.lexicon import RARE, is_rare, zipf
from services.redaction.recognizers.places import NRP_WORDS, THING_AFTER, is_place
from services.redaction.spoken import Token

DETECTOR = "names"

_STRONG = re.compile(
    r"\b(?:my name is|my name's|name is|name's|names is"
    r"|(?:first|last|middle|sur|full|maiden|family|given|preferred|legal) ?name"
    r"(?: is|'s| was)?|call me|under the name|the name is|name on the card is"
    r"|account holder is|spelled|goes by"
    r"|(?:everyone|everybody|people|friends|family|they all|most people) calls? me)\s+$")
_WEAK = re.compile(r"(?:^|[\s,.])(?:this is|i'm|i am|it's|its|speaking with|talking to|hi|hello"
                   r"|hey|thanks|thank you|bye|sorry|dear|with)\s+$")
_TITLES = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "mister", "doctor", "prof", "sir",
                     "madam"})
# Words that end a name, or that a weak cue should never take for one.
_NOT_NAME = frozenset({
    "and", "or", "but", "from", "with", "calling", "here", "speaking", "i", "my", "the", "a",
    "an", "is", "was", "about", "regarding", "because", "so", "just", "actually", "again",
    "yes", "yeah", "no", "sure", "okay", "ok", "well", "um", "uh", "please", "sorry", "great",
    "fine", "good", "right", "correct", "that", "this", "it", "at", "on", "in", "for", "to",
    "not", "also", "still", "really", "very", "your", "our", "their", "there", "calling.",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "tomorrow", "tonight", "morning", "afternoon", "evening", "customer", "support", "service",
    "billing", "sales", "team", "everyone", "all", "you", "we", "they", "he", "she",
    "happy", "glad", "trying", "having", "looking", "wondering", "going", "done", "back",
    "ready", "new", "here.", "bank", "account", "card", "phone", "as", "of", "by", "now",
    "that's", "thats", "it's", "its", "spelled", "spelt", "like",
    "you're", "i'm", "we're", "they're", "he's", "she's", "let", "let's", "you've", "i've",
})
_MAX_WORDS = 3
# A name takes no determiner: "the dell laptop", "no mayo" are things.
_DETERMINERS = frozenset({"the", "these", "those", "no", "some", "any", "every", "each",
                          "another"})
_EVERYDAY = 4.5  # a word this common is a name after "my name is" only when a list holds it
# Right after these a word-like first name is a name ("my wife carol", "my son mark"); not after
# "my doctor" ("my doctor drew blood").
_FAMILY = frozenset({"wife", "husband", "son", "daughter", "mom", "mother", "dad", "father",
                     "brother", "sister", "grandma", "grandpa", "grandmother", "grandfather",
                     "aunt", "uncle", "cousin", "niece", "nephew", "fiance", "fiancee",
                     "girlfriend", "boyfriend", "stepson", "stepdaughter", "grandson",
                     "granddaughter", "stepmom", "stepdad", "stepmother", "stepfather",
                     "neighbor", "neighbour", "roommate", "kid", "child", "friend", "partner"})
# A trap name after a relation is still a verb when one of these follows ("my son will call").
_MODAL = frozenset({"will", "may", "might", "can", "mark", "bill", "hope", "grant", "drew",
                    "chase", "rob", "sue", "pat", "wade", "don", "jack", "ray"})
# What follows a name that introduces its speaker: "this is grace from billing", "this is
# will speaking", "this is june, how can i help".
_INTRO_END = frozenset({"from", "with", "speaking", "here", "calling", "at", "on", "in", ",",
                        ".", "how", "and", "again", "over"})
# Surname particles and prefixes: "van der Berg", "de la Cruz", "bin Said", "Mc Allister" (ASR
# splits "McAllister"), "O ' Connor". They belong to the name only between name words.
PARTICLES = frozenset({
    "van", "von", "der", "den", "de", "da", "di", "du", "del", "della", "dos", "das", "la", "le",
    "st", "saint", "bin", "ibn", "al", "el", "mac", "mc", "o", "d", "ter", "ten", "af", "zu",
})
# Ordinary words that are also first names: never taken as a name without capitals and a cue.
TRAPS = frozenset({
    "will", "grace", "bill", "rose", "june", "jordan", "may", "april", "august", "art", "bob",
    "frank", "mark", "pat", "sue", "ray", "jack", "max", "faith", "hope", "joy", "dawn", "summer",
    "autumn", "penny", "rusty", "sandy", "chase", "hunter", "victor", "drew", "guy", "king",
    "page", "price", "gene", "sky", "amber", "ruby", "crystal", "destiny", "miles", "rich",
    "don", "ken", "lee", "bud", "bill's", "dean", "major", "carol", "holly", "ivy", "iris",
    "lily", "daisy", "jasmine", "heather", "olive", "pearl", "angel", "an", "paris", "rob",
    "grant", "lane", "dale", "wade", "walker", "earl", "norm", "violet", "hazel", "jay",
    "rocky", "brandy", "candy", "misty", "stormy", "harmony", "melody", "charity", "prudence",
    "trinity", "journey", "liberty", "river", "rain", "stone", "reed", "cash", "mercedes",
    "lincoln", "christian", "justice", "young",
    "noble", "royal", "sage", "storm", "marshall", "baker", "carter", "cooper", "porter",
    "mason", "taylor", "parker", "chance", "lucky", "honey", "ginger", "coral",
    "sierra", "dakota", "phoenix", "tuesday", "winter", "forest",
    # virtue names: ordinary nouns far more often than names
    "patience", "constance", "verity", "mercy", "honor", "honour", "felicity", "temperance",
    "serenity", "unity", "glory", "bliss", "promise", "love", "canyon",
    # nicknames that are words (round 13)
    "sunny", "chuck", "kit",
})
_PLACE_LEAD = frozenset({"in", "to", "near", "from", "at", "outside", "around", "of"})
_RELATION = re.compile(
    r"\b(?:my|our|her|his|their|your)\s+(?:wife|husband|son|daughter|mom|mother|dad|father"
    r"|brother|sister|partner|friend|boss|manager|grandmother|grandfather|grandma|grandpa|aunt"
    r"|uncle|cousin|niece|nephew|fianc[eé]e?|girlfriend|boyfriend|roommate|landlord|kid|child"
    r"|spouse|caregiver|stepson|stepdaughter|doctor|physician|dentist|therapist|lawyer"
    r"|attorney|agent|advisor|colleague|coworker|neighbor|neighbour|grandson|granddaughter"
    r"|grandchild|grandkid|stepmom|stepdad|stepmother|stepfather|adjuster|nurse|caseworker"
    r"|case worker|supervisor|teacher|pastor|accountant|realtor|landlady|tenant|mechanic"
    r"|contractor|surgeon|pharmacist|rep|representative|banker|broker|assistant|sponsor"
    r"|guardian|ex|ex husband|ex wife|fiancé)(?:[- ]in[- ]law)?"
    r"(?:'s name is|'s name's| is called| is named| is| was)?\s+$")
# Cues after which a name from the name lists (or a capitalised word) is a person.
_MEDIUM = re.compile(
    r"\b(?:named|called|patient|policyholder|policy holder|beneficiary|cardholder|card holder"
    r"|member|is this|speaking with|speak to|speak with|ask for|transfer me to|attention"
    r"|for|from|to|with|and|thanks|thank you|hi|hello|hey|ok|okay|bye|sorry)\s+$")


# Lead-ins after which two name-like words are a person ("booked under", "the driver was").
_UNDER = re.compile(r"\b(?:under|was|is|were|by|name|passenger|driver|guest|client|patient"
                    r"|husband|wife|son|daughter|named|called)\s+$")


# A name said before its cue: "kowalski is my last name", "mensah's the surname".
_TRAILING = re.compile(r"\s*(?:is|was|'s)\s+(?:my|the|our|his|her|their)\s+"
                       r"(?:(?:last|first|middle|full|maiden|family|sur)\s?)?name\b")
_TRAILING_START = (" is ", " was ", "'s ", " Is ", " IS ")
# Greetings and thanks before a bare name: "thanks kwame", "hi aoife".
_GREET = re.compile(r"(?:^|[\s,.])(?:hi|hello|hey|thanks|thank you|bye|goodbye|dear|cheers)"
                    r"\s*,?\s+$")
_NAMED = re.compile(r"\b(?:named|called|goes by|go by|known as|(?:reservation|booking|table"
                    r"|appointment|room|tickets?|booked|reserved) (?:for|under)(?: the)?)\s+$")
# After these any word that is not a function word is a name ("a guy named buddy").
_NAMED_ANY = frozenset({"named", "nicknamed"})


# Words of spoken spelling and ordinary English that the name lists also hold.
_NOT_NAMES = frozenset({
    "alpha", "alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra",
    "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu", "said", "server", "dev",
    "dash", "colon", "fresh", "reader", "holder", "stack", "weeks", "fee", "cherry", "der",
    "van", "san", "santa", "los", "las", "del", "fort", "port", "saint", "mount", "lake",
})


def _read(name: str) -> dict[str, list[str]]:
    raw = files("services.redaction.recognizers").joinpath(f"data/{name}")
    data: dict[str, list[str]] = json.loads(raw.read_text(encoding="utf-8"))
    return data


@cache
def core_first_names() -> frozenset[str]:
    """The first release's first names (21 locales): also what sends a lower-case line to
    spaCy (``engine.needs_ner``)."""
    return frozenset(_read("first_names.json")["names"]) - TRAPS - _NOT_NAMES - NRP_WORDS


@cache
def core_last_names() -> frozenset[str]:
    return frozenset(_read("last_names.json")["names"]) - TRAPS - _NOT_NAMES - NRP_WORDS


@cache
def first_names() -> frozenset[str]:
    """Every listed first name: the core list, ``more_names.json`` (Faker's other
    Latin-script locales, romanized Japanese and Chinese; bench/build_name_lists.py) and
    ``names_extra.json`` (nicknames and names of more origins, written by hand)."""
    more = frozenset(_read("more_names.json")["first"]) | frozenset(
        _read("names_extra.json")["first"])
    return core_first_names() | (more - TRAPS - _NOT_NAMES - NRP_WORDS)


@cache
def last_names() -> frozenset[str]:
    more = frozenset(_read("more_names.json")["last"]) | frozenset(
        _read("names_extra.json")["last"])
    return core_last_names() | (more - TRAPS - _NOT_NAMES - NRP_WORDS)


@cache
def _faker() -> dict[str, frozenset[str]]:
    """Faker's en_US first and last names (data/faker_en_us.json), word-like ones included."""
    raw = _read("faker_en_us.json")
    return {"first": frozenset(raw["first"]), "last": frozenset(raw["last"])}


def faker_first_names() -> frozenset[str]:
    """Faker's en_US first names, word-like ones ("amber", "victor") included."""
    return _faker()["first"]


@cache
def _listed() -> frozenset[str]:
    return first_names() | last_names() | TRAPS | _faker()["first"] | _faker()["last"]


def listed_name(word: str) -> bool:
    """Whether ``word`` is on any name list, word-like names ("rich", "young") included: for
    readers that already expect a name (a street's name, a town's stem, after "mr")."""
    return word in _listed()


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _NOT_NAME


def is_first_name(word: str) -> bool:
    return word in first_names() and word not in _stop_words()


def first_name_like(word: str) -> bool:
    """A first name of the lists or of Faker's, or a word-like name (``TRAPS``): what the
    recognizers that read a slot or a shape take for a possible first name."""
    return word in first_names() or word in faker_first_names() or word in TRAPS


def is_last_name(word: str) -> bool:
    return word in last_names() and word not in _stop_words()


def surname_like(t: Token, threshold: float = RARE) -> bool:
    """A lower-case word that can go on a name: a listed surname ("gomez", "o'reilly" as
    "reilly") or a rare word ("raghunathan"), never a stop word, group or ordinary English."""
    if not _name_word(t) or t.low in NRP_WORDS or t.low in TRAPS or t.low in _stop_words() \
            or t.low in _NOT_NAMES or t.low in PARTICLES:
        return False
    bare = t.low.replace("\u2019", "'")
    if bare.endswith("'s"):
        bare = bare[:-2]
    parts = [bare, bare.replace("'", ""), bare.split("'")[-1]]
    return any(p in last_names() or p in first_names() for p in parts) \
        or is_rare(bare, threshold)


def _more(toks: list[Token], j: int, limit: int) -> int:
    """Go on over surname-like words after a name ("priya raghunathan", "luis alberto gomez")."""
    while j < len(toks) and j < limit and surname_like(toks[j]):
        j += 1
    return j


_AFTER_TITLE = 3.5  # after "mr", "my wife": rarer than "prescribed", "told", "called"
_TRAP_SURNAME = 4.0  # "june gallagher", not "grace period", "will power"
# After a name the next word can be ("my husband mark said", "my son bill and i").
_AFTER_NAME = frozenset({"said", "says", "is", "was", "has", "had", "and", "who", "'s", "told",
                         "called", "wants", "needs", "saw", "usually", "always", "also",
                         "never", "just", "handles", ",", "."})


def _could_be_name(t: Token) -> bool:
    """Capitalised, a listed first name, or surname-like (not "said", "told", "called")."""
    return t.text[:1].isupper() or is_first_name(t.low) or surname_like(t, _AFTER_TITLE)


def _pair(toks: list[Token], i: int) -> int:
    """After a weak cue in lower case ("this is dev patel", "the driver was chidi okeke"): two
    name-like words, the first a listed first name or rare, the second a listed surname or rare,
    one of them listed. Index after them, or ``i``."""
    if i + 1 >= len(toks):
        return i
    a, b = toks[i], toks[i + 1]
    if not (surname_like(a) and surname_like(b)):
        return i
    listed = is_first_name(a.low) or is_last_name(b.low) or is_last_name(a.low)
    both_rare = is_rare(a.low) and is_rare(b.low)
    return i + 2 if listed or both_rare else i


def _name_word(t: Token) -> bool:
    return (t.text.replace("'", "").replace("\u2019", "").isalpha() and len(t.text) >= 2
            and t.low not in _NOT_NAME)


def _take(toks: list[Token], i: int, need_caps: bool, strong: bool = False) -> int:
    """Index after the name words starting at ``i`` (``i`` when there are none); ``strong``:
    right after "my name is", a first name that is also a word counts ("my name is will")."""
    j = i
    while j < len(toks) and j - i < _MAX_WORDS:
        t = toks[j]
        if not _name_word(t) or t.low in NRP_WORDS or (j > i and t.low in PARTICLES):
            break  # particles are taken by extend(), only when a name word follows
        if not t.text[0].isupper() and t.low in _stop_words() \
                and not (strong and j == i and t.low in TRAPS):
            break
        if strong and not t.text[0].isupper() and zipf(t.low) >= _EVERYDAY \
                and not listed_name(t.low):
            break  # "she goes by her middle name usually"
        if need_caps and not t.text[0].isupper() and not (
                (j == i and t.low in first_names())
                or (j == i + 1 and not toks[i].text[0].isupper() and t.low in last_names())):
            break
        j += 1
    return j


def extend(toks: list[Token], first: int, last: int) -> tuple[int, int]:
    """Grow a name over hyphens, apostrophes and particles on either side: "Anne-Marie
    Smith-Jones", "O'Connor" split as "O ' Connor", "van der Berg", "de la Cruz", "Mc Allister"."""
    n = len(toks)
    caps = toks[first].text[:1].isupper()
    for _ in range(4):
        if last + 2 < n and toks[last + 1].text in ("-", "'", "\u2019") \
                and _name_word(toks[last + 2]) and toks[last + 2].low not in _NOT_NAME:
            last += 2
            continue
        if last + 3 < n and toks[last + 1].low in PARTICLES and toks[last + 2].text == "-" \
                and _name_word(toks[last + 3]):
            last += 3  # "el-sayed", "al-amin" after a first name
            continue
        if last + 2 < n and toks[last + 1].low == "hyphen" and surname_like(toks[last + 2]):
            last += 2  # "smith hyphen jones"
            continue
        if toks[last].low in PARTICLES and last + 1 < n and _name_word(toks[last + 1]) \
                and toks[last + 1].low not in _stop_words():
            last += 1  # "mrs van der | berg": a name that ended on its particles
            continue
        k = last + 1
        while k < n and toks[k].low in PARTICLES and k - last <= 3:
            k += 1
        if k > last + 1 and k < n and _name_word(toks[k]) and (
                toks[k].text[:1].isupper() or toks[k].low not in _stop_words()):
            last = k
            continue
        # "Anne-Marie Smith": a capitalised name goes on with the next capitalised word.
        if caps and k < n and toks[k].text[:1].isupper() and _name_word(toks[k]) \
                and k + 1 < n and toks[k + 1].text in ("-", "'"):
            last = k
            continue
        break
    while first >= 2 and toks[first - 1].text in ("-", "'") and toks[first - 2].text.isalpha() \
            and toks[first - 2].low not in _NOT_NAME:
        first -= 2
    k = first
    while k > 0 and toks[k - 1].low in PARTICLES and first - k < 3:
        k -= 1
    # "van der Berg" after "Mr." or at a name's end; not "to la" or "is de" mid-sentence.
    if k < first and (toks[k].text[0].isupper() or (k > 0 and _name_word(toks[k - 1]))):
        first = k
    return first, last


def extend_span(view: View, start: int, end: int) -> tuple[int, int]:
    """:func:`extend` on character offsets (for PERSON findings of any detector)."""
    toks = view.tokens
    at = view.token_range(start, end)
    if at is None:
        return start, end
    first, last = extend(toks, *at)
    return min(start, toks[first].start), max(end, toks[last].end)


class Cue:
    """Kinds of cue that end right before a token, as bits (each pattern ends in ``\\s+$``);
    plain ints: enum flags cost more than the scan they save."""

    STRONG = 1
    WEAK = 2
    RELATION = 4
    MEDIUM = 8
    UNDER = 16
    NAMED = 32
    GREET = 64


_CUE_PATTERNS = {Cue.STRONG: _STRONG, Cue.WEAK: _WEAK, Cue.RELATION: _RELATION,
                 Cue.MEDIUM: _MEDIUM, Cue.UNDER: _UNDER, Cue.NAMED: _NAMED, Cue.GREET: _GREET}


def _ending(rx: re.Pattern[str]) -> re.Pattern[str]:
    """``rx`` (anchored at the end of the text before a token) as an overlapping scan of the
    whole text: every position where a cue ends, found in one pass instead of one search per
    token."""
    assert rx.pattern.endswith("$")
    return re.compile(f"(?=({rx.pattern[:-1]}))")


_CUE_SCANS = {kind: _ending(rx) for kind, rx in _CUE_PATTERNS.items()}


class _CueIndex:
    """The cues ending at each offset of an utterance, found once per utterance."""

    def __init__(self, text: str) -> None:
        low = text.lower()
        self._text = text
        self._exact = len(low) == len(text)  # lowercasing kept every offset
        self._at: dict[int, int] = {}
        if self._exact:
            for kind, rx in _CUE_SCANS.items():
                for m in rx.finditer(low):
                    self._at[m.end(1)] = self._at.get(m.end(1), 0) | kind

    def at(self, pos: int) -> int:
        if self._exact:
            return self._at.get(pos, 0)
        lead = self._text[max(0, pos - 40):pos].lower()
        return sum(kind for kind, rx in _CUE_PATTERNS.items() if rx.search(lead))


def _middle_initial(toks: list[Token], j: int) -> int:
    """Index of the word after a middle initial at ``j`` ("l hughes", "Q. Public"), or ``j``."""
    if j + 1 < len(toks) and _initial(toks[j]) and _name_word(toks[j + 1]):
        return j + 1
    if j + 2 < len(toks) and len(toks[j].text) == 1 and toks[j].text.isupper() \
            and toks[j + 1].text == "." and _name_word(toks[j + 2]):
        return j + 2
    return j


def _initial(t: Token) -> bool:
    """A single-letter initial ("f haddad", "s k patel"), not the words "a", "i", "o"."""
    return len(t.text) == 1 and t.text.isalpha() and t.low not in ("a", "i", "o")


def _name_end(view: View, i: int, cue: int) -> int:
    """Index after the name that starts at token ``i`` (``i`` when there is none), given the
    cues that end where the name would start (``cue``)."""
    toks = view.tokens
    j = i
    if cue & Cue.STRONG:
        j = _take(toks, i, need_caps=False, strong=True)
    elif (i > 0 and toks[i - 1].low.rstrip(".") in _TITLES) \
            or (i > 1 and toks[i - 1].text == "." and toks[i - 2].low in _TITLES):
        # "mr kowalski" in ASR case; "mrs young": a surname Faker lists, even a word
        j = _take(toks, i, need_caps=toks[i].low in TRAPS and toks[i].low not in _faker()["last"])
        while j > i + 1 and not (_could_be_name(toks[j - 1]) or listed_name(toks[j - 1].low)):
            j -= 1  # "mx arias booked the room"
        k = i
        while k + 1 < len(toks) and k - i < 3 and toks[k].low in PARTICLES:
            k += 1  # "mrs van der linden": judge the name after its particles
        if j > i and not _could_be_name(toks[k]) and not listed_name(toks[k].low):
            j = i  # "my doctor told me"; "dr white", "mrs young" are names
    elif cue & Cue.RELATION:  # "my wife jennifer", "my son Tom Baker"
        family = i > 0 and toks[i - 1].low in _FAMILY and toks[i].low not in _stop_words() \
            and not (toks[i].low in _MODAL and i + 1 < len(toks)
                     and toks[i + 1].low not in _AFTER_NAME)
        j = min(_take(toks, i, need_caps=toks[i].low in TRAPS and not family), i + 1)
        if j > i and not _could_be_name(toks[i]) and not (family and toks[i].low in TRAPS):
            j = i  # "my agent said", "my wife called"
        if j < len(toks) and j > i and (is_last_name(toks[j].low)
                                        or toks[j].text[:1].isupper()):
            j = _take(toks, i, need_caps=False)
    elif cue & Cue.WEAK:
        j = _take(toks, i, need_caps=True)
        if j == i:
            j = _pair(toks, i)
        if j == i and cue & Cue.GREET:
            j = _more(toks, i, i + _MAX_WORDS)  # "thanks kwame"
    elif cue & Cue.NAMED and i > 0 and toks[i - 1].low in _NAMED_ANY \
            and _name_word(toks[i]) and toks[i].low not in _stop_words():
        j = _more(toks, i + 1, i + _MAX_WORDS)  # "a guy named buddy"
    elif cue & (Cue.NAMED | Cue.GREET):
        # "she's called thandiwe", "cheers kwame": one rare word is enough here
        j = _more(toks, i, i + _MAX_WORDS)
    elif cue & (Cue.MEDIUM | Cue.UNDER):
        j = _pair(toks, i)
    if j == i and ((is_first_name(toks[i].low) and toks[i].low not in TRAPS
                    and not (i > 0 and toks[i - 1].low in _DETERMINERS))
                   or (toks[i].text[0].isupper() and cue & Cue.MEDIUM
                       and is_last_name(toks[i].low))):
        # A known first name anywhere ("yeah so jennifer said"), and a last name after it;
        # not after a determiner: "the dell laptop", "the ivory one", "no mayo".
        j = i + 1
        m = _middle_initial(toks, j)  # "katelyn l hughes", "John Q. Public"
        if m > j and (surname_like(toks[m]) or listed_name(toks[m].low)
                      or toks[m].text[0].isupper()):
            j = m + 1
        elif j < len(toks) and (is_last_name(toks[j].low) or surname_like(toks[j], _AFTER_TITLE)
                                or (_name_word(toks[j]) and toks[j].text[0].isupper())):
            j += 1  # "yuki tanaka": after a listed first name, a surname less rare than alone
    if j == i and cue & (Cue.STRONG | Cue.NAMED) and toks[i].low in _faker()["first"] \
            and i + 1 < len(toks) and toks[i + 1].low in _faker()["last"]:
        j = i + 2  # "was called holly snow": a word-like first name, a surname, after a cue
    if j == i and toks[i].low in TRAPS and i + 1 < len(toks) and _name_word(toks[i + 1]) \
            and toks[i + 1].low not in _stop_words() and toks[i + 1].low not in TRAPS \
            and is_last_name(toks[i + 1].low) and is_rare(toks[i + 1].low, _TRAP_SURNAME):
        j = i + 2  # "june abernathy", "faith okonkwo": a word-like first name and a surname
    if j == i and view.text.startswith(_TRAILING_START, toks[i].end) and surname_like(toks[i]):
        tail = view.text[toks[i].end:toks[i].end + 40].lower()
        if _TRAILING.match(tail):
            j = i + 1  # "kowalski is my last name"
        elif i + 1 < len(toks) \
                and view.text.startswith(_TRAILING_START, toks[i + 1].end) \
                and surname_like(toks[i + 1]) \
                and _TRAILING.match(view.text[toks[i + 1].end:toks[i + 1].end + 40].lower()):
            j = i + 2  # "anna kowalski is my name"
    if j == i and i >= 2 and toks[i - 2].low == "this" and toks[i - 1].low == "is" \
            and (toks[i].low in TRAPS or surname_like(toks[i])) \
            and (i + 1 == len(toks) or toks[i + 1].low in _INTRO_END):
        j = i + 1  # "this is grace from scheduling", "this is sunil calling", "this is jordan"
    if j == i and i >= 1 and toks[i - 1].low in ("it's", "its") and i + 1 < len(toks) \
            and toks[i + 1].low in ("calling", "speaking") \
            and (toks[i].low in TRAPS or surname_like(toks[i])):
        j = i + 1  # "it's faith calling about my card"
    if j == i and i >= 2 and toks[i - 1].low in ("with", "to") \
            and toks[i - 2].low in ("speaking", "talking", "speak") and toks[i].low in TRAPS \
            and (i + 1 == len(toks) or toks[i + 1].low in _INTRO_END):
        j = i + 1  # "am i speaking with frank", "could i speak to will"
    if j == i and toks[i].low in ("mc", "mac") and i + 1 < len(toks) \
            and _name_word(toks[i + 1]) and toks[i + 1].low not in _stop_words():
        j = i + 2  # "mc allister": ASR splits the prefix off
    if j > i + 1 and is_place(toks[i].low) and toks[i + 1].low in THING_AFTER:
        j = i  # "the virginia ham", "a denver omelette": a dish, not Virginia Ham
    if j > i and i > 0 and lexicalised(toks, i - 1):
        j = i  # "a german shepherd", "the english setter": a breed, not a surname
    if j == i + 1 and i > 0 and toks[i].low in THING_AFTER and is_place(toks[i - 1].low):
        j = i  # "a boston fern", "a boston terrier": named after a place, not a person
    if j > i and j - i == 1 and i > 0 and toks[i - 1].low in _PLACE_LEAD \
            and is_place(toks[i].low):
        j = i  # "the hotel in orlando": a place that is also a first name
    return j


def vouched_name(view: View, start: int, end: int) -> bool:
    """Whether a name spaCy found on truecased text is a person's: two name words or more
    ("oluwaseun adebayo"), or a listed name; one unlisted rare word alone is as often a drug, an
    app or a product ("i'm on metformin", "i paid with venmo")."""
    at = view.token_range(start, end)
    toks = view.tokens[at[0]:at[1] + 1] if at is not None else []
    words = [t.low.replace("\u2019", "'").removesuffix("'s") for t in toks if _name_word(t)]
    return len(words) >= 2 or any(w in first_names() or w in last_names() for w in words)


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    cues = _CueIndex(view.text)
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        cue = cues.at(toks[i].start)
        # Initials before a name go with it: "the name on the card is f haddad".
        s = i
        while s < len(toks) and s - i < 2 and _initial(toks[s]):
            s += 1
        j = _name_end(view, s, cue) if s < len(toks) else s
        if s > i and j == s and s < len(toks) and surname_like(toks[s]) and (
                cue & (Cue.STRONG | Cue.WEAK | Cue.MEDIUM | Cue.UNDER | Cue.RELATION)):
            j = s + 1  # "it's under s k patel"
        if j > s:
            j = _more(toks, j, s + _MAX_WORDS + 1)
            first, last = extend(toks, s, j - 1)
            more = _more(toks, last + 1, last + 3)
            if more > last + 1:  # "jean-luc moreau": the surname after a hyphenated first name
                first, last = extend(toks, first, more - 1)
            first = min(first, i)
            out.append(Finding("PERSON", toks[first].start, toks[last].end, 0.8, DETECTOR))
            i = last + 1
        else:
            i += 1
    if Topic.NAME in view.context.asked and not out:
        out.extend(_answer(view))
    return out + _said_then_spelled(toks)


def _after_pronoun(toks: list[Token], t: Token) -> bool:
    """"yes i will", "we can": a word-like name after a pronoun is the verb."""
    at = toks.index(t)
    return at > 0 and toks[at - 1].low in ("i", "we", "you", "he", "she", "they", "it")


_HESITATIONS = frozenset({"uh", "um", "er", "erm", "hmm", "oh", "ah"})
_SPELL_GAP = 5  # "mcallister that's m c …", "smythe with a y s m y t h e"


def _said_then_spelled(toks: list[Token]) -> list[Finding]:
    """A word said just before its own spelling is a name, whatever the word: "it's
    mcallister that's m c a l l i s t e r". Each run of single letters looks back at most
    ``_SPELL_GAP`` words, so the scan stays linear."""
    out: list[Finding] = []
    k = 0
    while k < len(toks):
        if not _letter(toks[k]):
            k += 1
            continue
        end = k
        while end < len(toks) and _letter(toks[end]):
            end += 1
        letters = "".join(t.low for t in toks[k:end])
        if len(letters) >= 3:
            for w in toks[max(0, k - _SPELL_GAP):k]:
                bare = w.low.replace("'", "").replace("\u2019", "")
                if len(bare) >= 3 and bare.isalpha() and bare in letters \
                        and w.low not in _stop_words():
                    out.append(Finding("PERSON", w.start, w.end, 0.8, DETECTOR))
        k = end
    return out


def _letter(t: Token) -> bool:
    return len(t.text) == 1 and t.text.isalpha()


def _answer(view: View) -> list[Finding]:
    """The caller's reply to "what's your name?": capitalised words, or a short bare reply."""
    toks = [t for t in view.tokens if t.text.isalpha()]
    words = [t.low for t in toks]
    for k in range(len(words) - 2):
        if words[k] in ("like", "as") and words[k + 1:k + 3] in (["the", "word"], ["in", "the"]):
            toks = toks[:k] + [t for t in toks[k + 3:] if t.low in words[:k]]
            break  # "it's hope like the word hope": the gloss names no one else
    # Hesitations do not make a reply longer: "it's grace uh grace achterberg".
    short = sum(1 for t in toks if t.low not in _HESITATIONS) <= 3
    out: list[Finding] = []
    for t in toks:
        if t.low in _NOT_NAME or len(t.text) < 2 \
                or (t.low in _stop_words() and not t.text[0].isupper()
                    and not (short and t.low in TRAPS and not _after_pronoun(toks, t))):
            continue  # "under tanaka": the lead-in is not the name; "will" alone is one
        # A longer reply in lower case ("that would be kofi mensah"): its name-like words.
        if t.text[0].isupper() or short or is_first_name(t.low) or surname_like(t):
            out.append(Finding("PERSON", t.start, t.end, 0.7, DETECTOR))
    return out
