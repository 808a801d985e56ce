"""Places by their cues rather than by a list: what is said around a place names it, whatever
the place. A short answer to "where…?" or "what county?"; rare words after a dwelling or a
motion and its preposition ("a flat in hebden bridge", "went to ketchikan"); a name with a noun of
the land or water ("flathead lake", "lake louise") or of a landmark ("by pike place market");
places said together with a place found
("ketchikan and skagway"); and the checks the engine applies to spaCy's places on truecased text
(a cue, a list or a place word must vouch for them; "on"/"at"/"through" alone do not, as they as
often take a drug, an app or a store). Caller turns only, except a place the agent reads back.
Pure logic; each rule looks a bounded number of tokens around each token, so it stays linear.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.lexicon import PLACE_WORDS, rare_word, zipf
from services.redaction.recognizers.places import (
    ABBREVIATIONS,
    COUNTRY_DETECTOR,
    DETECTOR,
    EVERYDAY,
    PLACE_SUFFIX,
    THING_AFTER,
    gazetteer_at,
    said_of_caller,
    stop_words,
    word_before,
)
from services.redaction.spoken import Token

# Before a place of unknown words, prepositions that make a place of it ("in wapakoneta",
# "past lake okeechobee"); not "on"/"at"/"through", which as often take a drug, an app or a
# store ("on metformin", "through zelle", "at walgreens").
_LOCATIVE = frozenset({"in", "from", "near", "outside", "around", "to", "into", "past", "below",
                       "above", "beyond", "onto", "toward", "towards", "across", "of"})


# Before "to": a motion or nearness that makes a place of what follows ("went to bozeman",
# "closer to wapakoneta"); "switched to metformin" is not one.
_MOTION = frozenset({"went", "go", "goes", "going", "gone", "drove", "drive", "drives", "driving",
                     "fly", "flew", "flies", "flying", "flown", "moved", "move", "moving",
                     "travel", "traveled", "travelled", "traveling", "travelling", "trip",
                     "headed", "heading", "came", "come", "coming", "close", "closer", "next",
                     "back", "up", "down", "over", "out", "commute", "commutes", "ride",
                     "shipped", "delivered", "relocated"})
# Prepositions of residence and origin: a rare word after them that spaCy took for a person is
# a place ("my hotel is in bandra", "we're from eldoret").
_RESIDENCE = frozenset({"in", "from", "near", "outside", "around", "past", "below", "above",
                        "beyond", "onto", "across"})


# Before "on"/"at": where someone lives or stays ("our house is on kauai", "we live right on
# the susquehanna", "the cruise stops at lombok"), not "i'm on metformin", "paid at walgreens".
_DWELL = frozenset({"live", "lives", "living", "lived", "stay", "stays", "staying", "stayed",
                    "house", "home", "cabin", "cabin's", "cottage", "farm", "ranch", "lodge",
                    "condo", "apartment", "flat", "property", "moored", "docked", "stop",
                    "stops", "stopping", "camping", "camped", "based", "vacationing", "holiday",
                    "island", "retired", "settled", "grew", "backs", "overlooks",
                    "overlooking", "sits", "located", "situated"})
_DWELL_REACH = 3
_DWELL_PREPOSITIONS = frozenset({"on", "at", "in", "near", "by", "outside", "around", "below",
                                 "above", "beyond", "past", "onto", "behind", "along", "across",
                                 "off"})


def place_by_cue(view: View, start: int) -> bool:
    """Whether the words before ``start`` make a place of what starts there: a preposition of
    residence or origin, "to"/"into" after a motion ("went to", "closer to"), "on"/"at" after
    a dwelling ("our house is on kauai")."""
    toks = view.tokens
    at = view.token_range(start, start + 1)
    i = at[0] if at is not None else len(toks)
    return word_before(toks, i) in _RESIDENCE or _dwelling(toks, i)


def _dwelling(toks: list[Token], i: int) -> bool:
    """A dwelling or a motion before the preposition before token ``i``: "a flat in …", "our
    house is on …", "went to …", "closer to …"."""
    at = i - 1 if i >= 2 and toks[i - 1].low == "the" else i
    before = toks[at - 1].low if at >= 1 else ""
    if before in ("to", "into"):
        return at >= 2 and toks[at - 2].low in _MOTION
    if before in _DWELL_PREPOSITIONS:
        return any(toks[k].low in _DWELL for k in range(max(0, at - 1 - _DWELL_REACH), at - 1))
    return False


def _cued_rare(view: View) -> list[Finding]:
    """Rare words after a dwelling or a motion and its preposition, which no list holds: "we're
    renting a flat in hebden bridge", "the cruise stops at skagway", "we went to ketchikan";
    a drug or an app rarely follows those ("i'm on metformin", "paid through zelle")."""
    if view.is_agent:
        return []
    toks = view.tokens
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        if not (toks[i].text.isalpha() and rare_word(toks[i].low) and _dwelling(toks, i)):
            i += 1
            continue
        j = i + 1
        while j < len(toks) and j - i < 3 and toks[j].text.isalpha() and (
                rare_word(toks[j].low) or toks[j].low in _NAME_ENDS):
            j += 1
        if j < len(toks) and toks[j].low in THING_AFTER:
            i = j
            continue
        out.append(Finding("LOCATION", toks[i].start, toks[j - 1].end, 0.6, DETECTOR))
        i = j
    return out


def is_country(view: View, start: int, end: int) -> bool:
    """Whether the span (another detector's place) is a country the gazetteer holds, so the
    policy's granularity applies to it as to ours."""
    at = view.token_range(start, end)
    if at is None:
        return False
    hit = gazetteer_at(view, at[0])
    return hit is not None and hit[2] and hit[0] == at[1] + 1


def spoken_place(view: View, start: int, end: int) -> bool:
    """Whether a place spaCy found on truecased text is a place and the caller's: a word the
    gazetteer holds, a place word ("lake", "county") or a locative preposition before it
    vouches for it; in an agent turn only when said of the caller; never the name of a thing
    ("a denver omelette") or a function word."""
    toks = view.tokens
    at = view.token_range(start, end)
    if at is None:
        return False
    idx = range(at[0], at[1] + 1)
    if all(toks[k].low in stop_words() for k in idx):
        return False
    after = idx[-1] + 1
    if after < len(toks) and toks[after].low in THING_AFTER:
        return False
    if view.is_agent and not said_of_caller(view, idx[0]):
        return False
    return any(toks[k].low in PLACE_WORDS or gazetteer_at(view, k) is not None for k in idx) \
        or word_before(toks, idx[0]) in _LOCATIVE or place_by_cue(view, start)


_ANSWER_WORDS = 6  # a reply this short to "where…?" is the place, not a story
# Words that end a place's name and take the words before it: "ocean county", "st. tammany
# parish", "bear creek".
_NAME_ENDS = PLACE_SUFFIX | frozenset({"parish", "island", "islands", "river", "mountains",
                                        "mountain", "peak", "hollow", "isle", "coast", "shore",
                                        "bridge"})


def _answered(view: View) -> list[Finding]:
    """The caller's short reply to "where…?", "what county…?", "final destination?": its rare
    words ("invercargill") and names ending in a place word ("ocean county"), which no list
    need hold; the question is the cue."""
    if view.is_agent or Topic.LOCATION not in view.context.asked:
        return []
    toks = view.tokens
    if sum(1 for t in toks if t.text[0].isalnum()) > _ANSWER_WORDS:
        return []
    stops = stop_words()
    out: list[Finding] = []
    i = 0
    while i < len(toks):
        j, rare, last = i, False, ""
        while j < len(toks):
            t = toks[j]
            if t.text == "." and j > i and toks[j - 1].low in ABBREVIATIONS:
                j += 1  # "st. tammany"
                continue
            if not t.text.isalpha() or (t.low in stops and t.low not in PLACE_WORDS):
                break
            rare = rare or rare_word(t.low)
            last = t.low
            j += 1
        if j > i and (rare or (last in _NAME_ENDS and j - i >= 2)):
            out.append(Finding("LOCATION", toks[i].start, toks[j - 1].end, 0.6, DETECTOR))
        i = max(j, i + 1)
    return out


# Between two places said together: "ketchikan and skagway", "tulsa instead of norman", "kent
# near maidstone", "porto i mean faro", "sacramento well elk grove".
_LINKS = frozenset({"and", "or", "then", "instead", "of", "not", "near", "to", "via", "through",
                    "i", "mean", "well", "sorry", "no", "rather", "also", "outside", "past",
                    "nor", "plus", "uh", "um", "down", "up", "over", "back", "than"})
_LINK_WORDS = 2


def _linked_place(view: View, i: int) -> tuple[int, bool] | None:
    """(end index, is a country) of a place at token ``i`` that a place said with it vouches
    for: one the gazetteer holds (any size, not a function word) or rare words ("skagway")."""
    toks = view.tokens
    tok = toks[i]
    if not tok.text.isalpha() or tok.low in stop_words() or tok.low in _LINKS:
        return None
    hit = gazetteer_at(view, i)
    end, country = (hit[0], hit[2]) if hit is not None else (None, False)
    if end is None:
        j = i
        while j < len(toks) and j - i < 3 and toks[j].text.isalpha() and (
                rare_word(toks[j].low) or (j > i and toks[j].low in _NAME_ENDS)):
            j += 1
        end = j if j > i else None
    if end is None or (end < len(toks) and toks[end].low in THING_AFTER):
        return None
    return end, country


def coordinated(view: View, found: Sequence[Finding]) -> list[Finding]:
    """Places said together with a place found: the cue that made one a place holds for the
    other. Each found place looks at most a few words each way."""
    if view.is_agent or not found:
        return []
    toks = view.tokens
    first_at = {t.start: k for k, t in enumerate(toks)}
    last_at = {t.end: k for k, t in enumerate(toks)}
    out: list[Finding] = []
    for f in found:
        if f.entity_type != "LOCATION" or f.start not in first_at or f.end not in last_at:
            continue
        a, b = first_at[f.start], last_at[f.end]
        k = b + 1
        while k < len(toks) and k - b <= _LINK_WORDS and toks[k].low in _LINKS:
            k += 1
        if b + 1 < k < len(toks):
            linked = _linked_place(view, k)
            if linked is not None:
                out.append(Finding("LOCATION", toks[k].start, toks[linked[0] - 1].end, 0.6,
                                   COUNTRY_DETECTOR if linked[1] else DETECTOR))
        k = a - 1
        while k >= 0 and a - k <= _LINK_WORDS and toks[k].low in _LINKS:
            k -= 1
        if 0 <= k < a - 1:
            start = k  # the place before ends at k: go back over its words
            while start > 0 and k - start < 2 and toks[start - 1].text.isalpha() \
                    and toks[start - 1].low not in stop_words() \
                    and toks[start - 1].low not in _LINKS:
                start -= 1
            for s in range(start, k + 1):
                linked = _linked_place(view, s)
                if linked is not None and linked[0] == k + 1:
                    out.append(Finding("LOCATION", toks[s].start, toks[k].end, 0.6,
                                       COUNTRY_DETECTOR if linked[1] else DETECTOR))
                    break
    return out


# Nouns of the land and water that end a place's name ("flathead lake", "the smoky
# mountains") or start it ("lake louise", "mount shasta").
_FEATURE_LAST = frozenset({"lake", "lakes", "mountains", "mountain", "river", "island", "islands",
                           "creek", "hollow", "peak", "valley", "bay", "canyon", "county",
                           "parish", "springs", "falls", "beach", "heights", "hills", "coast",
                           "shore", "sound", "gulf", "keys", "bayou", "glacier", "reservoir"})
_FEATURE_FIRST = frozenset({"lake", "mount", "mt", "isle", "cape", "fort", "ft"})
# Nouns of a landmark that end its name, said where someone is or lives: "right by pike place
# market", "next to coors field", "in the gaslamp quarter". After "the" only with a rare word
# ("by the train station" is any station).
_LANDMARK_LAST = frozenset({"market", "station", "field", "zoo", "square", "quarter", "plaza",
                            "pier", "wharf", "stadium", "arena", "terminal", "district",
                            "commons", "gardens", "park"})
_PLAIN = 5.5  # "big", "old", "little": a lake so described is not named
_FEATURE_LEAD = _DWELL_PREPOSITIONS | _RESIDENCE | frozenset({"to", "from", "of", "into"})


def _featured(view: View) -> list[Finding]:
    """A name with a noun of the land or water, after a preposition of place: "we're on
    flathead lake", "in the smoky mountains", "camping at lake louise". The noun and the
    preposition are the cue; the name need not be on any list."""
    if view.is_agent:
        return []
    toks = view.tokens
    stops = stop_words()
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        landmark = tok.low in _LANDMARK_LAST
        if (tok.low in _FEATURE_LAST or landmark) and k >= 2:
            first = k
            while first > 0 and k - first < 2 and toks[first - 1].text.isalpha() \
                    and toks[first - 1].low not in stops \
                    and toks[first - 1].low not in _FEATURE_LAST \
                    and toks[first - 1].low not in _FEATURE_LEAD:  # "near" is no name's word
                first -= 1
            named = zipf(toks[first].low) < _PLAIN  # "the big lake" is no name
            if landmark and toks[first - 1].low == "the":
                named = any(rare_word(toks[m].low) for m in range(first, k))
            if first < k and word_before(toks, first) in _FEATURE_LEAD and named:
                out.append(Finding("LOCATION", toks[first].start, tok.end, 0.6, DETECTOR))
                continue
        if tok.low in _FEATURE_FIRST and k + 1 < len(toks) and toks[k + 1].text.isalpha() \
                and toks[k + 1].low not in stops and zipf(toks[k + 1].low) < EVERYDAY \
                and toks[k - 1].low != "the" and word_before(toks, k) in _FEATURE_LEAD:
            # "at lake louise", not "in the lake yesterday"
            out.append(Finding("LOCATION", tok.start, toks[k + 1].end, 0.6, DETECTOR))
    return out


def recognize(view: View) -> list[Finding]:
    return _answered(view) + _cued_rare(view) + _featured(view)
