"""Word-like first names in a slot only a person fills: "will", "grace", "frank", "holly" are
ordinary words far more often than names, so no list takes them alone; the words around them
decide.

- said beside "my" and a relation or a role, either way round: "frank my neighbor hit my
  mailbox", "it's for grace my granddaughter", "my son in law will installed it", "the cashier
  holly was rude", "my buddy big mike was driving";
- the subject of "is the account holder" or "are my twin girls": "rose is the joint holder";
- the one spoken with: "i spoke with carol on monday", "talk to joy she handles it";
- opening the line as the subject of what only a person does: "april had given me his
  address", "june drove me in";
- named before "she's my guardian" at a line's start or after "to": "pay it to dolores she's
  my guardian"; after a relation and a hesitation: "the last agent um jasmine i think";
- at a line's start, from a team or a place: "april from your team emailed me", "hi it's grace
  from the order desk";
- thanked by name at the line's end: "thank you so much destiny", or named after "okay": "okay
  priyanka i see it";
- held under at a clause's end: "the claim is under ridgeway" (a surname-like word only);
- a first and last name opening the line before the speaker's own words: "shmuel katz i'm
  the account holder", "jericho santos calling".

A verb or a modal that is also a name ("will", "may", "hope", "mark") is taken only where a
verb cannot stand ("my son will installed it", not "my son will call"). Pure logic; each rule
looks at most five tokens around each token, so the scan stays linear.
"""

from __future__ import annotations

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import is_rare, rare_word, zipf
from services.redaction.recognizers.names import (
    _FAMILY,
    _MODAL,
    TRAPS,
    is_first_name,
    is_last_name,
    listed_name,
    surname_like,
)
from services.redaction.recognizers.places import NRP_WORDS, stop_words
from services.redaction.recognizers.roles import _DID, _ROLES
from services.redaction.spoken import Token

DETECTOR = "names"
_OWNERS = frozenset({"my", "our", "his", "her", "their", "your"})
_RELATIONS = _FAMILY | _ROLES | frozenset({
    "buddy", "pal", "mate", "granddaughter", "grandson", "kids", "girls", "boys", "twins",
    "children", "daughters", "sons", "sisters", "brothers", "parents", "spouse", "fiance",
    "fiancee", "husband", "wife", "doctor", "adjuster", "teacher", "pastor", "caregiver",
})
# "the joint holder", "the primary driver", "my twin girls": who a name can be.
_PERSON_NOUNS = _RELATIONS | frozenset({
    "holder", "owner", "beneficiary", "passenger", "patient", "tenant", "contact", "member",
    "cosigner", "co-signer", "guarantor", "executor", "policyholder", "subscriber",
})
_BE = frozenset({"is", "was", "are", "were", "'s"})
# After a relation and a name that is no verb, the clause goes on: "my kid mike from the
# policy", "my wife grace and i".
_ON = frozenset({"from", "on", "off", "to", "at", "and", ",", "."})
# Nicknames' adjectives between a relation and a name: "my buddy big mike".
# After a relation and a name, the speaker says more of them: "my coworker winter she sent it".
_TOLD_OF = frozenset({"she", "he", "i", "who", "she's", "he's"})
_NICK = frozenset({"big", "little", "lil", "old", "young"})
_SPEAK = frozenset({"spoke", "spoken", "talked", "talking", "talk", "speak", "speaking"})
# What may follow the one spoken with: the clause ends, or goes on about when or where.
_AFTER_SPOKEN = frozenset({
    "in", "on", "at", "from", "yesterday", "earlier", "last", "this", "about", "before", "and",
    "she", "he", "they", "who", "but", "over", "a", "the", "today", "twice", "again", ",", ".",
})
# What the speaker says right after giving their name at a line's start.
_INTRO = frozenset({"calling", "here", "speaking", "i'm", "im", "i"})
_LOOSE = 4.0  # before "calling", a name word may be as common as "katz" or "jericho"
# "april from the start", "june from the look of it": a time or a manner, not a team.
_FROM_TIME = frozenset({"start", "beginning", "get", "outset", "onset", "first", "day", "look",
                        "looks", "sound", "top", "end", "middle", "date"})
_FROM_DETS = frozenset({"your", "the", "my", "our"})
_OPENERS = frozenset({"hi", "hello", "hey", "yeah", "yes", "um", "uh", "oh", "so", "it's",
                      "its", "this", "is"})
# After a verb-like name ("will", "mark"), a word that no modal or verb can precede.
_PAST = frozenset({"was", "had", "has", "is", "said", "told", "set", "put", "made", "got",
                   "did", "paid", "sent", "took", "gave", "hit", "ran", "drove", "left"})
# Words of endearment said where a name would be: "thanks so much love".
_ENDEARMENT = frozenset({"honey", "love", "dear", "sweetie", "darling", "babe", "hun", "sugar",
                         "buddy", "man", "mate", "sir", "madam", "guys", "girl"})
# Word-like names that are adjectives first: "my son is young", "my dad was lucky".
_ADJECTIVES = frozenset({"young", "rich", "lucky", "noble", "royal", "major", "sandy", "rusty",
                         "stormy", "misty", "sunny", "honest", "brave", "free", "earnest"})
# Acknowledgements before a name said to someone: "okay priyanka i see it".
_ACKS = frozenset({"okay", "ok", "alright", "right", "thanks", "sure"})
# Rare words that answer or hesitate, not names: "okay gotcha i see".
_NOT_VOCATIVE = frozenset({"mhm", "hmm", "gotcha", "alrighty", "yep", "yup", "nope", "uhhuh",
                           "okie", "okey", "dokey", "kk", "cool", "sweet", "awesome", "perfect"})
# Before "under" and a name: what is booked or held in someone's name.
_UNDER_LEAD = frozenset({"is", "was", "it's", "its", "booked", "reserved", "filed", "listed",
                         "registered", "claim", "account", "reservation", "booking"})
_CLAUSE_END = frozenset({",", ".", "and", "but", "so", "please", "thanks", "i", "right"})
# Adding someone to what a person holds: "put will on the account", "add joy to the lease".
_ADD = frozenset({"put", "add", "added", "adding", "putting", "take", "took", "taking",
                  "remove", "removed", "removing", "include", "included"})
_HELD = frozenset({"account", "policy", "lease", "plan", "reservation", "booking", "loan",
                   "mortgage", "title", "deed", "insurance", "membership"})
_OCCASIONS = frozenset({"birthday", "anniversary", "graduation", "wedding", "retirement",
                        "shower", "christening", "bar", "bat"})
# The roles a caller says they hold after their name: "i'm precious the account holder".
_SELF_ROLES = frozenset({"holder", "owner", "policyholder", "cardholder", "beneficiary",
                         "tenant", "patient", "executor", "subscriber", "guarantor"})
_NOT_SELF = frozenset({"not", "also", "still", "only", "just", "now", "actually", "both",
                       "calling", "speaking", "here", "sure", "told", "listed", "named",
                       "upset", "mad", "angry", "sad", "afraid", "sorry", "glad", "happy"})
_SELF_EVERYDAY = 4.5  # "precious" 4.3 may be a name there; "sorry", "afraid", "happy" are not
# What only a person does, right after a name opening the line.
_HUMAN_DID = frozenset({"said", "told", "called", "texted", "emailed", "drove", "ordered",
                        "booked", "signed", "asked", "promised", "explained", "mentioned",
                        "given", "picked", "dropped", "gave", "insisted", "agreed", "helped"})
_DESCRIBED_REACH = 9  # "jordan set it up for me he's my roommate"
_FAMILY_RARE = 3.3  # "the smiths" 3.2 is a family; "the cooks" 3.7, "the woods" 4.5 are words
# Banks and shops named like people: "i spoke to chase", "talk to wells".
_FIRMS = frozenset({"chase", "wells", "discover", "sprint", "target", "progressive"})


def _namelike(low: str) -> bool:
    """A listed name (word-like ones included) or a rare word; never a group or stop word
    other than a word-like name ("will" is both)."""
    if not low.isalpha() or low in NRP_WORDS or low in _ENDEARMENT or low in _FIRMS:
        return False
    if low in TRAPS:
        return True
    return low not in stop_words() and (listed_name(low) or rare_word(low))


def _done(low: str) -> bool:
    """A word after a verb-like name that shows it is not a verb: a past form or a copula."""
    return low in _PAST or low in _DID or (low.endswith("ed") and len(low) > 4)


def _at_start(toks: list[Token], k: int) -> bool:
    j = k - 1
    while j >= 0 and toks[j].low in _OPENERS:
        j -= 1
    return j < 0 or toks[j].text in (",", ".", "?", "!")


def _relation_ends(toks: list[Token], k: int) -> int:
    """Index after a relation said with its owner at ``k`` ("my neighbor", "my son in law",
    "my travel partner"), or ``k``."""
    if k >= len(toks) or (toks[k].low not in _OWNERS and toks[k].low != "the"):
        return k
    j = k + 1
    if j + 1 < len(toks) and toks[j + 1].low in _RELATIONS and toks[j].low not in _RELATIONS:
        j += 1  # "my travel partner", "my twin girls"
    if j >= len(toks) or toks[j].low not in _RELATIONS:
        return k
    if toks[k].low == "the" and toks[j].low not in _ROLES:
        return k
    if j + 2 < len(toks) and toks[j + 1].low == "in" and toks[j + 2].low == "law":
        j += 2
    return j + 1


def _apposition(toks: list[Token], k: int, verb: bool) -> bool:
    """"frank my neighbor hit", "it's for grace my granddaughter"."""
    if k + 1 >= len(toks) or toks[k + 1].low not in _OWNERS \
            or _relation_ends(toks, k + 1) == k + 1:
        return False
    before = toks[k - 1].low if k else ""
    return before in ("for", "to", "with", "and", "called") or (_at_start(toks, k) and not verb)


def _after_relation(toks: list[Token], k: int, verb: bool, nxt: str) -> bool:
    """"my son in law will installed it", "the cashier holly was rude", "my buddy big mike"."""
    j = k - 1
    if j >= 0 and toks[j].low in _NICK:
        j -= 1
    paused = j >= 0 and toks[j].low in ("um", "uh")  # "the last agent um jasmine i think"
    j -= paused
    if j < 0 or toks[j].low not in _RELATIONS | {"law"} \
            or not any(_relation_ends(toks, o) == j + 1 for o in range(max(0, j - 4), j)):
        return False
    if not verb and nxt in _TOLD_OF:  # "my coworker winter she sent it"
        return True
    return (j == k - 2 and not paused) or _done(nxt) or (
        not verb and (nxt in _BE or nxt in _DID or nxt in _ON))


def _relation_is(toks: list[Token], k: int, verb: bool, nxt: str) -> bool:
    """"my travel partner is river", "my adjuster was phil"; not "my son is young"."""
    return k >= 3 and toks[k - 1].low in _BE and toks[k - 2].low in _RELATIONS and not verb \
        and toks[k].low not in _ADJECTIVES \
        and (not nxt or nxt in (",", ".", "and", "but", "something")) \
        and any(_relation_ends(toks, o) == k - 1 for o in range(max(0, k - 6), k - 2))


def _subject_of_role(toks: list[Token], k: int) -> bool:
    """"rose is the joint holder", "faith and hope are my twin girls"."""
    n, m = len(toks), k + 1
    if m + 1 < n and toks[m].low == "and" and _namelike(toks[m + 1].low):
        m += 2
    if not _at_start(toks, k) or m + 2 >= n or toks[m].low not in _BE \
            or toks[m + 1].low not in _OWNERS | {"the"}:
        return False
    noun = m + 2
    if noun + 1 < n and toks[noun].low not in _PERSON_NOUNS:
        noun += 1  # "the joint holder"
    return toks[noun].low in _PERSON_NOUNS


def _spoken_with(toks: list[Token], k: int, nxt: str) -> bool:
    """"i spoke with carol on monday", "talk to joy she handles it"."""
    return k >= 2 and toks[k - 1].low in ("with", "to") and toks[k - 2].low in _SPEAK \
        and (not nxt or nxt in _AFTER_SPOKEN)


def _from_team(toks: list[Token], k: int, nxt: str) -> bool:
    """"april from your team emailed me", "hi it's grace from the order desk"."""
    return nxt == "from" and k + 3 < len(toks) and toks[k + 2].low in _FROM_DETS \
        and toks[k + 3].low not in _FROM_TIME and _at_start(toks, k) \
        and toks[k].low not in ("will", "may", "can", "might")


def _vocative(toks: list[Token], k: int, nxt: str) -> bool:
    """"okay priyanka i see the ticket": a name said to someone before they are told
    something; "thank you so much destiny" at the line's end."""
    low = toks[k].low
    if k >= 1 and toks[k - 1].low in _ACKS and _at_start(toks, k - 1) \
            and nxt in ("i", "we", "let", "i'm", "i'll", "i've", "so") \
            and low not in _NOT_VOCATIVE and low not in TRAPS \
            and (is_first_name(low) or (rare_word(low) and len(low) >= 4)):
        return True
    return not nxt and k >= 3 and toks[k - 1].low == "much" \
        and toks[k - 2].low in ("so", "very") and toks[k - 3].low in ("you", "thanks")


def _under(toks: list[Token], k: int, nxt: str) -> bool:
    """"the claim is under ridgeway", "it's booked under okafor": one surname-like word ending
    the clause after "under"; "it's under warranty", "under review" are words."""
    return k >= 2 and toks[k - 1].low == "under" and toks[k - 2].low in _UNDER_LEAD \
        and (not nxt or nxt in _CLAUSE_END) and surname_like(toks[k])


def _added_to(toks: list[Token], k: int, nxt: str) -> bool:
    """"put will on the account", "add grace to my policy", "take mark off the lease": someone
    added to or taken off what only a person holds; "put money on the card" is no name (a
    name-like word only, and "card" is left out)."""
    return k >= 1 and toks[k - 1].low in _ADD and nxt in ("on", "to", "off", "from") \
        and k + 3 < len(toks) and toks[k + 2].low in _OWNERS | {"the"} \
        and toks[k + 3].low in _HELD


def _for_occasion(toks: list[Token], k: int, nxt: str) -> bool:
    """"it's for dawn for her birthday": a gift for someone, for their occasion."""
    return k >= 1 and toks[k - 1].low == "for" and nxt == "for" and k + 3 < len(toks) \
        and toks[k + 2].low in ("her", "his", "their") and toks[k + 3].low in _OCCASIONS


def _self_role(toks: list[Token], k: int) -> bool:
    """"i'm precious the account holder": after "i'm", the caller's own word before the role
    they hold is their name, whatever the word; "i'm also the account holder", "i'm actually
    the owner", "i'm not the patient" keep their adverbs."""
    t = toks[k]
    if k < 1 or toks[k - 1].low not in ("i'm", "im") or k + 2 >= len(toks) \
            or toks[k + 1].low != "the" or not t.text.isalpha() or len(t.text) < 2 \
            or t.low in stop_words() or t.low in NRP_WORDS or t.low.endswith("ly") \
            or t.low in _NOT_SELF or zipf(t.low) >= _SELF_EVERYDAY \
            or (t.low.endswith("ed") and not listed_name(t.low)):
        return False
    noun = k + 2
    while noun < len(toks) and noun - k <= 4 and toks[noun].low not in _SELF_ROLES:
        noun += 1  # "the primary account holder"
    return noun < len(toks) and toks[noun].low in _SELF_ROLES


def _surname_first(toks: list[Token], k: int) -> bool:
    """"it's d'souza my first name's neil": the surname said before the first name."""
    return k + 3 < len(toks) and toks[k + 1].low == "my" and toks[k + 2].low == "first" \
        and toks[k + 3].low in ("name's", "name", "names") and surname_like(toks[k], _LOOSE) \
        and k >= 1 and toks[k - 1].low in ("it's", "its", "is", "i'm", "im")


def _described_after(toks: list[Token], k: int) -> bool:
    """"jordan set it up for me he's my roommate": a name opening the line, then said to be
    the speaker's relation a few words on."""
    if not (_at_start(toks, k) or (k >= 1 and toks[k - 1].low in ("to", "for"))) \
            or toks[k].low in _MODAL:
        return False  # "pay it to dolores she's my guardian"
    for m in range(k + 1, min(len(toks) - 1, k + _DESCRIBED_REACH)):
        if toks[m].low in (".", "?", "!"):
            return False
        if toks[m].low in ("he's", "she's") and _relation_ends(toks, m + 1) > m + 1:
            return True
    return False


def _family(toks: list[Token], k: int) -> bool:
    """"the reservation is for the hendersons", "we're visiting the joneses": a listed surname
    in the plural after "the" is a family; plurals English uses ("the woods", "the hills",
    "the cooks") are too common to be one."""
    low = toks[k].low
    if k < 1 or toks[k - 1].low != "the" or not low.isalpha() or not low.endswith("s") \
            or zipf(low) >= _FAMILY_RARE:
        return False
    stems = [low[:-1]] + ([low[:-2]] if low.endswith("es") else [])
    return any(is_last_name(stem) for stem in stems)


def _speaker_subject(toks: list[Token], k: int, nxt: str) -> bool:
    """"april had given me his address", "june drove me in june", "autumn ordered the wreath":
    a name-like word opening the line as the subject of what only a person does (a verb-like
    name, "will", "mark", "bill", stays a word: "bill says i owe")."""
    if toks[k].low in _MODAL or not _at_start(toks, k):
        return False
    at = k + 1
    if nxt in ("had", "has") and k + 2 < len(toks):
        at, nxt = k + 2, toks[k + 2].low
    return nxt in _HUMAN_DID and not (at + 1 < len(toks) and toks[at + 1].low == "off")


def _slot(toks: list[Token], k: int) -> bool:
    """Whether the name-like word at ``k`` stands where only a person can."""
    verb = toks[k].low in _MODAL
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    return _apposition(toks, k, verb) or _after_relation(toks, k, verb, nxt) \
        or _relation_is(toks, k, verb, nxt) or _subject_of_role(toks, k) \
        or _spoken_with(toks, k, nxt) or _from_team(toks, k, nxt) or _vocative(toks, k, nxt) \
        or _under(toks, k, nxt) or _added_to(toks, k, nxt) or _for_occasion(toks, k, nxt) \
        or _described_after(toks, k) or _speaker_subject(toks, k, nxt)


def _partner(toks: list[Token], k: int) -> int:
    """"faith and hope are …": the second name of a pair taken by its first, or -1."""
    if k + 3 < len(toks) and toks[k + 1].low == "and" and toks[k + 3].low in _BE \
            and _namelike(toks[k + 2].low):
        return k + 2
    return -1


def _introduced(toks: list[Token], k: int) -> int:
    """"shmuel katz i'm the account holder", "jericho santos calling": a first and last name
    opening the line, then the speaker's own words. Index after the name, or ``k``."""
    if not _at_start(toks, k) or k + 2 >= len(toks) or toks[k + 2].low not in _INTRO:
        return k
    a, b = toks[k], toks[k + 1]
    if not (surname_like(a, _LOOSE) and surname_like(b, _LOOSE)):
        return k
    vouched = any(is_first_name(t.low) or is_last_name(t.low) or is_rare(t.low) for t in (a, b))
    return k + 2 if vouched else k


def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        end = _introduced(toks, k)
        if end > k:
            out.append(Finding("PERSON", tok.start, toks[end - 1].end, 0.6, DETECTOR))
            continue
        if _self_role(toks, k) or _surname_first(toks, k) or _family(toks, k):
            out.append(Finding("PERSON", tok.start, tok.end, 0.6, DETECTOR))
            continue
        if not _namelike(tok.low) or not _slot(toks, k):
            continue
        out.append(Finding("PERSON", tok.start, tok.end, 0.6, DETECTOR))
        other = _partner(toks, k)
        if other > 0:
            out.append(Finding("PERSON", toks[other].start, toks[other].end, 0.6, DETECTOR))
    return out
