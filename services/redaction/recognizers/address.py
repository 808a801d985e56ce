"""Street addresses: a house number (digits or words), a street name, a suffix, maybe a unit.

"1234 Maple Avenue", "twelve thirty four north Elm street apartment five B", "221B Baker St".
After the agent asks for an address, a number followed by a capitalised name is enough.
Pure logic.
"""

from __future__ import annotations

import re
from functools import cache

from services.redaction.context import Topic
from services.redaction.recognizers.base import Finding, View
from services.redaction.spoken import TEENS, TENS, UNITS, NumberRun, Token

DETECTOR = "address"

SUFFIXES = frozenset({
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive",
    "dr", "court", "ct", "way", "place", "pl", "terrace", "ter", "circle", "cir", "parkway",
    "pkwy", "highway", "hwy", "square", "sq", "trail", "trl", "loop", "alley", "crescent",
    "close", "row", "plaza", "pike", "run",
    # British and suburban street types: "Rose Gardens", "Kings Mews", "Oak Hollow"
    "gardens", "mews", "heights", "grove", "rise", "hill", "green", "walk", "hollow", "ridge",
    "path", "park",
})
# The rest of USPS Publication 28's street suffixes ("Wilson Overpass", "Garcia Views",
# "Lopez Mills"): everyday words, so only with a house number before the street's name.
_USPS = frozenset({
    "branch", "bridge", "brook", "brooks", "burg", "burgs", "bypass", "camp", "canyon", "cape",
    "causeway", "center", "centers", "circles", "cliff", "cliffs", "club", "common", "corner",
    "corners", "course", "courts", "cove", "coves", "creek", "crest", "crossing", "crossroad",
    "curve", "dale", "dam", "divide", "drives", "estate", "estates", "expressway", "extension",
    "extensions", "fall", "falls", "ferry", "field", "fields", "flat", "flats", "ford", "fords",
    "forest", "forge", "forges", "fork", "forks", "fort", "freeway", "garden", "gateway", "glen",
    "glens", "greens", "groves", "harbor", "harbors", "haven", "hills", "inlet", "island",
    "islands", "isle", "junction", "junctions", "key", "keys", "knoll", "knolls", "lake",
    "lakes", "land", "landing", "light", "lights", "loaf", "lock", "locks", "lodge", "mall",
    "manor", "manors", "meadow", "meadows", "mill", "mills", "mission", "motorway", "mount",
    "mountain", "mountains", "neck", "orchard", "oval", "overpass", "parks", "parkways", "pass",
    "passage", "pine", "pines", "plain", "plains", "point", "points", "port", "ports", "prairie",
    "radial", "ramp", "ranch", "rapid", "rapids", "rest", "ridges", "river", "roads", "route",
    "rue", "shoal", "shoals", "shore", "shores", "skyway", "spring", "springs", "spur", "spurs",
    "squares", "station", "stravenue", "stream", "streets", "summit", "throughway", "trace",
    "track", "trafficway", "tunnel", "turnpike", "underpass", "union", "unions", "valley",
    "valleys", "via", "viaduct", "view", "views", "village", "villages", "ville", "vista",
    "walks", "wall", "ways", "well", "wells", "yard", "yards", "wharf", "quay", "parade",
    "esplanade", "promenade", "chase", "croft", "fold", "gate", "wynd", "brae",
})
# Street types that stand first ("rue de la Paix", "calle Mayor", "via Roma") and the particles
# inside such names.
_TYPE_FIRST = frozenset({"rue", "calle", "avenida", "via", "viale", "rua", "avenue", "boulevard",
                         "strada", "carrer", "plaza", "placa", "piazza", "chemin", "allee",
                         "route", "highway", "interstate", "camino", "paseo", "praca"})
_PARTICLES = frozenset({"de", "la", "le", "les", "du", "des", "del", "da", "do", "dos", "das",
                        "di", "della", "von", "van", "der", "den", "el", "los", "las"})
# A street said without its number, after these: "i live on maple street".
_ON = frozenset({"on", "off"})
_STRICT = frozenset({"street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane",
                     "drive", "court", "terrace", "parkway", "crescent", "plaza", "mews",
                     "gardens", "highway"})
_UNIT_WORDS = frozenset({"apartment", "apt", "unit", "suite", "ste", "#", "number", "flat"})
# Words that cannot be part of a street name: the lead-in or the rest of the sentence.
_STOP = frozenset({
    "i", "my", "is", "at", "on", "in", "the", "a", "to", "and", "it's", "its", "live", "it",
    "was", "for", "of", "we", "you", "me", "by", "from", "or", "that", "this", "about", "with",
    "minutes", "hours", "days", "dollars", "times", "items", "people",
    # "a two hour walk", "ten minute walk", "five mile hill": measures, not street names
    "minute", "hour", "day", "week", "weeks", "mile", "miles", "block", "blocks",
    "step", "steps", "foot", "feet", "more", "other", "big", "small",
    # "thirty five each way", "ten per lane": a price or a count, not a house number
    "each", "per", "every", "both", "either", "all", "any",
})
_MAX_NAME_WORDS = 4


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _STOP



def recognize(view: View) -> list[Finding]:
    toks = view.tokens
    ends = {run.last: run for run in view.runs}
    # Indexed once: scanning every run for each address made long utterances quadratic.
    firsts: dict[int, NumberRun] = {}
    for run in view.runs:
        firsts.setdefault(run.first, run)
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if (tok.low not in SUFFIXES and tok.low not in _USPS) or k == 0:
            continue
        start = _house_number(toks, ends, k)
        if start is None and tok.low in _STRICT:
            start = _named_street(toks, k)  # "i live on maple street"
        if start is None:
            start = _named_after_name(toks, k)
        end = _unit(toks, firsts, k)
        if start is None and end > k and toks[k - 1].text[:1].isdigit() \
                and not toks[k - 1].text.isdigit():
            start = toks[k - 1].start  # "5th Avenue, number 910": the number comes after
        if start is None and end > k:
            start = _unnumbered(toks, k)  # "richardson cliff matthew canyon apt 251"
        if start is None:
            continue
        end = _tail(view, firsts, _unit(toks, firsts, end) if end > k else end)
        out.append(Finding("STREET_ADDRESS", start, toks[end].end, 0.85, DETECTOR))
    out.extend(_type_first(toks, ends, firsts))
    out.extend(_po_box(view, firsts))
    out.extend(_military(view, ends, firsts))
    out.extend(_corners(toks))
    out.extend(_numbered_roads(view, firsts))
    from services.redaction.recognizers import numbered_streets

    out.extend(numbered_streets.recognize(view))
    out = [_corner_of(view, f) for f in out]
    if not out and (Topic.ADDRESS in view.context.asked or _LIVE_AT.search(view.text.lower())
                    or any(t.low == "address" for t in toks)):
        out.extend(_bare(view))
    return out + _postcodes(view)


# UK postcodes as written ("SW1A 1AA", "BS8 1TH"); in lower case only after a postcode cue.
# Canadian postal codes too ("K1A 0B1").
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}"
                       r"|[A-Za-z][0-9][A-Za-z] ?[0-9][A-Za-z][0-9])(?![A-Za-z0-9])")
_DIGIT_WORDS = frozenset(UNITS) | frozenset(TEENS)
_NUMBER_WORDS = _DIGIT_WORDS | frozenset(TENS) | {"hundred", "thousand"}
_POSTCODE_CUES = frozenset({"postcode", "post", "postal", "zip", "postcodes"})


def _postcodes(view: View) -> list[Finding]:
    """UK postcodes: written, or spoken letter by letter and digit by digit after "postcode"
    ("b s eight one t h")."""
    out: list[Finding] = []
    for m in _POSTCODE.finditer(view.text):
        upper = m.group().upper() == m.group()
        if upper or Topic.ZIP in view.topics_at(_index_at(view, m.start())):
            out.append(Finding("ZIP_CODE", m.start(), m.end(), 0.8, DETECTOR))
    toks = view.tokens
    if Topic.ZIP not in view.context.asked and not any(t.low in _POSTCODE_CUES for t in toks):
        return out
    i = 0
    while i < len(toks):
        j = i
        letters = digits = 0
        while j < len(toks) and j - i < 9:
            t = toks[j]
            if len(t.text) == 1 and t.text.isalpha() and t.low not in ("o",):
                letters += 1
            elif t.low in _DIGIT_WORDS or (t.text.isdigit() and len(t.text) <= 2):
                digits += 1
            else:
                break
            j += 1
        if j - i >= 5 and letters >= 2 and digits >= 1 and Topic.ZIP in view.topics_at(i):
            out.append(Finding("ZIP_CODE", toks[i].start, toks[j - 1].end, 0.8, DETECTOR))
            i = j
        else:
            i = max(j, i + 1)
    return out


def _index_at(view: View, offset: int) -> int:
    return next((k for k, t in enumerate(view.tokens) if t.start >= offset), len(view.tokens))


def _house_number(toks: list[Token], ends: dict[int, NumberRun], k: int) -> int | None:
    """Start offset of the house number before the street name ending at suffix ``k``."""
    j = k - 1
    words = 0
    while j >= 0 and words < _MAX_NAME_WORDS:
        if j in ends and words > 0:
            return ends[j].start
        tok = toks[j]
        if tok.low in _STOP or not tok.text[0].isalnum() or (
                tok.low in _NUMBER_WORDS and toks[k].low in _USPS):
            return None  # "two point one point four": a number, not a street called "one"
        if tok.text[0].isdigit() and not tok.text.isdigit():
            # "221B Baker", "42nd Street": a house number with a letter, or an ordinal street.
            if j > 0 and j - 1 in ends:
                return ends[j - 1].start
            if words > 0:
                return tok.start
        words += 1
        j -= 1
    return None


def _named_street(toks: list[Token], k: int) -> int | None:
    """Start offset of a street named without a number after "on"/"off": one to three words
    that are not function words ("on maple street", "off old mill road")."""
    j = k - 1
    while j >= 0 and k - j <= 3 and toks[j].text.isalpha() and toks[j].low not in _stop_words():
        j -= 1
    if j == k - 1 or j < 0 or toks[j].low not in _ON:
        return None
    return toks[j + 1].start


def _named_after_name(toks: list[Token], k: int) -> int | None:
    """A street without its number whose name is a person's ("on rich greens", "the north
    side of gamble passage", Faker's "{last_name} {suffix}"): any USPS suffix, one name word
    before it, after "on", "off" or "of"."""
    from services.redaction.recognizers.names import listed_name

    j = k - 1
    if j < 1 or not toks[j].text.isalpha() or not listed_name(toks[j].low) \
            or toks[j - 1].low not in _ON_OF:
        return None
    return toks[j].start


_ON_OF = _ON | {"of"}


def _unnumbered(toks: list[Token], k: int) -> int | None:
    """Start of a street said without a house number but with its unit after it ("Johnson Camp
    Brittney Avenue, Suite 602"): up to five name words before the suffix, none a function
    word."""
    j = k - 1
    while j >= 0 and k - j <= 5 and toks[j].text.isalpha() and (
            toks[j].low not in _stop_words() or toks[j].low in _USPS):  # "Schmidt Well"
        j -= 1
    return toks[j + 1].start if j < k - 1 else None


# After a street: the town, state (name or code), country and ZIP that finish an address
# ("… Apt. 534 Robinland OH 44120", "… suite 985 kennedyhaven ia 25965", "… Jasonfort, Ghana").
_TAIL_WORDS = 6
_STATE_CODES = frozenset({
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "dc", "fl", "ga", "hi", "id", "il", "in",
    "ia", "ks", "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh",
    "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut",
    "vt", "va", "wa", "wv", "wi", "wy", "as", "gu", "mp", "pr", "vi", "fm", "mh", "pw", "aa",
    "ae", "ap"})
_TOWN_COMMON = 4.0  # a town word in a tail is rarer than this, or a listed name or place


def _tail(view: View, firsts: dict[int, NumberRun], last: int) -> int:
    """Index of the last token of an address whose street ends at ``last``: town words (rare,
    a listed name, a known place, or a town prefix such as "north", "lake"), a state or its
    code, a country, a ZIP code. A state code that is also a word ("in", "me", "or") only
    before a ZIP code or the end of the sentence."""
    from services.redaction.recognizers import places
    from services.redaction.recognizers.lexicon import zipf
    from services.redaction.recognizers.names import listed_name

    toks = view.tokens
    n = len(toks)
    k, words, end = last + 1, 0, last
    while k < n and words < _TAIL_WORDS:
        t = toks[k]
        if t.text in (",", "."):  # "Fasor 96., Apt. 975, Kishajmás"
            k += 1
            continue
        run = firsts.get(k)
        if run is not None:
            if (len(run.digits) in (5, 9) or (_POSTCODE_DIGITS[0] <= len(run.digits)
                                              <= _POSTCODE_DIGITS[1] and not run.spoken)) \
                    and words > 0:
                return run.last  # the ZIP or postcode ends it ("Oslo 0458", "Vila Real 5000")
            break
        if words > 0 and k + 1 < n and toks[k + 1].text.isalpha() and (
                (t.text == "-" and toks[k - 1].end == t.start)
                or (t.low in _PARTICLES | _TOWN_PARTICLES and _town_word(toks[k + 1]))):
            k += 1  # "Karksi-Nuia", "Alcolea del Río", "Dole pri Litiji": the name goes on
            continue
        if len(t.text) == 2 and t.text.isupper() and words > 0:
            end, k, words = k, k + 1, words + 1  # a region's code: "Kobenhavn K, SJ, 1455"
            continue
        if t.low in _UNIT_WORDS and words == 0:
            unit = _unit(toks, firsts, k - 1)  # a second unit: "apt 007 apt 737"
            if unit > k - 1:
                end, k = unit, unit + 1
                continue
        if not t.text.isalpha():
            break
        hit = places.place_at(view, k)
        if hit is not None and (hit > k + 1 or (t.low not in _stop_words()
                                                and t.low not in _TAIL_STOP)):
            end, k, words = hit - 1, hit, words + hit - k  # "antigua and barbuda", "new york"
            continue
        nxt = toks[k + 1] if k + 1 < n else None
        if t.low in _STATE_CODES and (t.low not in _stop_words() or nxt is None
                                      or nxt.text in (".", ",", "?", "!")
                                      or (k + 1 in firsts and len(firsts[k + 1].digits) == 5)):
            end, k, words = k, k + 1, words + 1
            continue
        if t.low in _stop_words() or t.low in _TAIL_STOP:
            break
        if hit is None and zipf(t.low) >= _TOWN_COMMON and not listed_name(t.low) \
                and not (t.low in places.TOWN_PREFIXES and nxt is not None
                         and nxt.text.isalpha()):
            break
        end, k, words = k, k + 1, words + 1
    return end


_POSTCODE_DIGITS = (4, 6)  # written postcodes of other countries: "0458", "5000", "110001"
# Particles inside towns' names in other languages ("Dole pri Litiji", "Begunje na Gorenjskem").
_TOWN_PARTICLES = frozenset({"pri", "na", "nad", "pod", "am", "an", "im", "bei", "sur", "aux",
                             "y", "ad", "op", "aan"})


def _town_word(t: Token) -> bool:
    """A word that can carry on a town's name after a particle: written with a capital, or rare
    in English."""
    from services.redaction.recognizers.lexicon import zipf

    return t.text[:1].isupper() or zipf(t.low) < _TOWN_COMMON


_TAIL_STOP = frozenset({"thanks", "thank", "please", "okay", "ok", "yes", "yeah", "um", "uh",
                        "today", "tomorrow", "tonight", "yesterday", "morning", "evening",
                        "night", "week", "month", "year", "instead", "now", "then", "too",
                        "also", "apartment", "near", "by", "and"})


def _type_first(toks: list[Token], ends: dict[int, NumberRun],
                firsts: dict[int, NumberRun]) -> list[Finding]:
    """"twenty three rue de la paix", "on route nine", "calle mayor": a street type before
    the name, after a house number (or, for a road number, after "on")."""
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if tok.low not in _TYPE_FIRST or k == 0:
            continue
        if tok.low in ("route", "highway", "interstate") and toks[k - 1].low in _ON \
                and k + 1 in firsts:
            out.append(Finding("STREET_ADDRESS", toks[k - 1].end + 1, toks[firsts[k + 1].last].end,
                               0.6, DETECTOR))
            continue
        if k - 1 not in ends:
            continue
        j = k + 1
        while j < len(toks) and j - k <= 4 and toks[j].text.isalpha() and (
                toks[j].low in _PARTICLES or toks[j].low not in _stop_words()):
            j += 1
        while j - 1 > k and toks[j - 1].low in _PARTICLES:
            j -= 1
        if j - 1 > k:
            out.append(Finding("STREET_ADDRESS", ends[k - 1].start, toks[j - 1].end, 0.7,
                               DETECTOR))
    return out


# Numbered rural roads: a road class, a road word, a number ("county road twelve", "state
# road one eighteen", "rural route two box fourteen", "farm to market road nineteen").
_ROAD_CLASS = frozenset({"county", "state", "township", "forest", "ranch", "rural", "farm",
                         "market", "us", "interstate", "provincial", "federal", "fire",
                         "service", "star"})
_ROAD_WORDS = frozenset({"road", "rd", "route", "highway", "hwy", "lane", "line"})


def _numbered_roads(view: View, firsts: dict[int, NumberRun]) -> list[Finding]:
    """A numbered rural road and its box: no house number, no street name, and still the
    address ("it's rural route two box fourteen", "the gate on county road twelve")."""
    toks = view.tokens
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if tok.low not in _ROAD_WORDS or k == 0 or toks[k - 1].low not in _ROAD_CLASS \
                or k + 1 not in firsts:
            continue
        start = k - 3 if k >= 3 and toks[k - 1].low == "market" and toks[k - 2].low == "to" \
            else k - 1  # "farm to market road"
        end = firsts[k + 1].last
        if end + 2 < len(toks) and toks[end + 1].low == "box" and end + 2 in firsts:
            end = firsts[end + 2].last  # "rural route two box fourteen"
        end = _tail(view, firsts, end)
        out.append(Finding("STREET_ADDRESS", toks[start].start, toks[end].end, 0.7, DETECTOR))
    return out


_ORDINALS = frozenset({
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth", "thirtieth", "fortieth", "fiftieth",
    "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th", "12th",
    "main", "broadway", "market", "church", "high"})


def _street_words(toks: list[Token], i: int) -> int:
    """Index after one or two street-name words at ``i`` (``i`` if none)."""
    j = i
    while j < len(toks) and j - i < 2 and toks[j].text.isalnum() and toks[j].low != "and" \
            and (toks[j].low not in _stop_words() or toks[j].low in _ORDINALS):
        j += 1
    if j < len(toks) and toks[j].low in SUFFIXES:
        j += 1
    return j


_TO_AT = frozenset({"to", "at", "is", "on"})


def _corners(toks: list[Token]) -> list[Finding]:
    """Intersections: "the corner of fifth and maple", "at main and third"."""
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if tok.low != "and" or k < 2:
            continue
        a = k - 1
        while a > 0 and k - a < 2 and toks[a - 1].text.isalnum() \
                and toks[a - 1].low not in _stop_words():
            a -= 1
        if _street_words(toks, a) != k:
            continue
        end = _street_words(toks, k + 1)
        if end == k + 1:
            continue
        lead = " ".join(t.low for t in toks[max(0, a - 2):a])
        ordinal = any(t.low in _ORDINALS for t in toks[a:end])
        if end - 1 > k + 1 and toks[end - 1].low in SUFFIXES | _USPS and a == k - 1 \
                and toks[a - 1].low in _TO_AT:
            # "sent to jennifer and harris turnpike": a name and a street, an intersection
            out.append(Finding("STREET_ADDRESS", toks[a].start, toks[end - 1].end, 0.6,
                               DETECTOR))
            continue
        corner = lead.endswith("corner of") or lead.endswith("corners of")
        if corner or (ordinal and (lead.endswith(" at") or lead == "at" or lead.endswith(" on")
                                   or lead == "on")):
            # "the corner of" is said as part of the address: it goes with it
            first = a - 3 if corner and a >= 3 and toks[a - 3].low == "the" else \
                (a - 2 if corner else a)
            out.append(Finding("STREET_ADDRESS", toks[first].start, toks[end - 1].end, 0.6,
                               DETECTOR))
    return out


def _corner_of(view: View, found: Finding) -> Finding:
    """A street found on its own inside an intersection ("the corner of ul. Zagórna 55 and
    Oscar Rest"): the lead-in and the other street go with it."""
    toks = view.tokens
    span = view.token_range(found.start, found.end)
    if span is None:
        return found
    first, last = span
    if first < 2 or toks[first - 1].low != "of" or toks[first - 2].low not in ("corner", "corners"):
        return found
    start = toks[first - 3].start if first >= 3 and toks[first - 3].low == "the" \
        else toks[first - 2].start
    end = found.end
    if last + 1 < len(toks) and toks[last + 1].low == "and":
        after = _street_words(toks, last + 2)
        if after > last + 2:
            end = toks[after - 1].end
    return Finding(found.entity_type, start, end, found.score, found.detector)


def _po_box(view: View, firsts: dict[int, NumberRun]) -> list[Finding]:
    """"p o box four seven seven", "PO Box 12", "post office box 9", with the town after it."""
    toks = view.tokens
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if tok.low != "box" or k == 0 or k + 1 not in firsts:
            continue
        before = [t.low for t in toks[max(0, k - 2):k]]
        if before[-1:] in (["po"], ["p.o"]) or before == ["p", "o"] or before == ["post", "office"]:
            first = k - 1 if before[-1:] in (["po"], ["p.o"]) else k - 2
            out.append(Finding("STREET_ADDRESS", toks[first].start,
                               toks[_tail(view, firsts, firsts[k + 1].last)].end, 0.8,
                               DETECTOR))
    return out


_MIL_POST = frozenset({"apo", "dpo", "fpo"})
_MIL_STATE = frozenset({"aa", "ae", "ap"})
_MIL_LEAD = frozenset({"psc", "unit", "box", "cmr"})
_SHIPS = frozenset({"uss", "usns", "usnv", "uscgc"})


def _military(view: View, ends: dict[int, NumberRun],
              firsts: dict[int, NumberRun]) -> list[Finding]:
    """Military mail: "PSC 3874, Box 1435, APO AA 12345", "unit 6492 box 0831 dpo ae",
    "USNS Taylor FPO AP 73342": back from APO/DPO/FPO and its state over the unit, box and
    ship's name, on to the ZIP code."""
    toks = view.tokens
    out: list[Finding] = []
    for k, tok in enumerate(toks):
        if tok.low not in _MIL_POST or k + 1 >= len(toks) or toks[k + 1].low not in _MIL_STATE:
            continue
        end = k + 1
        if k + 2 in firsts:
            end = firsts[k + 2].last
        first, j = k, k - 1
        while j >= 0 and k - j <= 8:
            if toks[j].text == ",":
                j -= 1
            elif j in ends:
                first = j = ends[j].first
                j -= 1
            elif toks[j].low in _MIL_LEAD or toks[j].low in _SHIPS:
                first, j = j, j - 1
            elif j > 0 and toks[j - 1].low in _SHIPS and toks[j].text.isalpha():
                first, j = j - 1, j - 2  # "USNS Taylor"
            else:
                break
        out.append(Finding("STREET_ADDRESS", toks[first].start, toks[end].end, 0.85, DETECTOR))
    return out


def _unit(toks: list[Token], firsts: dict[int, NumberRun], k: int) -> int:
    """Extend past "apartment 5B", "suite 200", "unit four"."""
    j = k + 1
    if j < len(toks) and toks[j].text == ",":
        j += 1
    if j < len(toks) and toks[j].low in _UNIT_WORDS:
        # Runs do not overlap, so one starting at j + 1 comes before one starting at j + 2.
        run = firsts.get(j + 1) or firsts.get(j + 2)
        if run is not None:
            end = run.last
            if end + 1 < len(toks) and len(toks[end + 1].text) == 1 \
                    and toks[end + 1].text.isalpha():
                end += 1
            return end
        if j + 1 < len(toks) and toks[j + 1].text.isalnum():
            return j + 1
    return k


_LIVE_AT = re.compile(r"\b(?:live|lives|living|located|stay|staying|send it|ship it|mail it)"
                      r" (?:at|to)\b")


def _bare(view: View) -> list[Finding]:
    """After "what's the address?" (or "my address is", "I live at"): a number and one to
    three capitalised words, or in lower case (ASR) words that are not function words."""
    toks = view.tokens
    for run in view.runs:
        if len(run.digits) > 5:
            continue  # a phone or account number, not a house number
        j = run.last + 1
        caps = j < len(toks) and toks[j].text[:1].isupper()
        while j < len(toks) and j - run.last <= 3 and toks[j].text.isalpha() and (
                toks[j].text[:1].isupper() if caps else toks[j].low not in _stop_words()):
            j += 1
        if j - run.last > 1:
            return [Finding("STREET_ADDRESS", run.start, toks[j - 1].end, 0.6, DETECTOR)]
    return []
