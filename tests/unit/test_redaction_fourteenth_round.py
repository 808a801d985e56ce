"""Issue 19, fourteenth round, table-driven. Every case is written for these tests (never taken
from the blind set or the tuning sets): group nouns that are everyday words said as people by
what is around them, plurals of political words, group words past a hesitation or a degree
word, a copula with a person before it, a country's name as its people's adjective, accented
and twice-decoded demonyms, hyphened prefixes, more peoples, faiths' branches and parties; and
the ordinary speech the same words make, which must stay."""

from __future__ import annotations

import pytest

from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.recognizers import places
from services.redaction.recognizers.base import View
from services.redaction.recognizers.compounds import lexicalised
from services.redaction.results import DETECTOR_VERSION
from services.redaction.spoken import tokenize
from tests.unit.redaction_support import MODEL, Spans, assert_linear, redacted, spans


def _groups(text: str) -> Spans:
    """The groups the places reader finds, before they are merged with its places (a country's
    name is also a place, which the policy keeps by default)."""
    return [(f.entity_type, text[f.start:f.end]) for f in places.recognize(View.of(text))
            if f.entity_type == "NRP"]


def test_detector_version() -> None:
    assert DETECTOR_VERSION == "voxledger-speech/16"


@pytest.mark.parametrize(("text", "expected"), [
    # everyday-word demonyms said as people by what is around them
    ("the poles next door are lovely", [("NRP", "poles")]),
    ("a lot of swedes live around here", [("NRP", "swedes")]),
    ("um the turks upstairs complained", [("NRP", "turks")]),
    ("there are many danes in my building", [("NRP", "danes")]),
    ("the english next door called the police", [("NRP", "english")]),
    ("we have a kiwi living with us", [("NRP", "kiwi")]),
    ("my son married a pole", [("NRP", "pole")]),
    ("as a swede i find that odd", [("NRP", "swede")]),
    ("the roma across the street", [("NRP", "roma")]),
    # plurals that are always people
    ("i love working with finns", [("NRP", "finns")]),
    ("the tories won again", [("NRP", "tories")]),
    ("most conservatives i know", [("NRP", "conservatives")]),
    # and what the same words say otherwise
    ("the poles in my yard fell over", []),
    ("the telephone poles next to the road are down", []),
    ("we need new tent poles", []),
    ("i bought two kiwis and a mango", []),
    ("we flew to turks and caicos", []),
    ("the swedes and turnips are in the bag", []),
    ("i used it as a pole", []),
    ("eat your greens", []),
    ("we're going to the caribbean next month", []),
    ("my mom lives in an independent living facility", []),
])
def test_group_nouns_said_as_people(text: str, expected: Spans) -> None:
    assert spans(text, places.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # past a hesitation or a degree word
    ("she's half english", [("NRP", "english")]),
    ("um so i'm uh kiwi", [("NRP", "kiwi")]),
    ("we are both vatican", [("NRP", "vatican")]),
    ("we are both black", [("NRP", "black")]),
    ("my neighbours are white", [("NRP", "white")]),
    ("do you have someone who is black", [("NRP", "black")]),
    ("my in-laws are swedes", [("NRP", "swedes")]),
    # a copula says an everyday word of someone only with a person before it
    ("my wife is english", [("NRP", "english")]),
    ("the patient is caribbean does that matter", [("NRP", "caribbean")]),
    ("the light is green now", []),
    ("the pain is moderate", []),
    ("the form is english", []),
    ("both are white", []),
    ("we are both tired", []),
])
def test_said_of_someone_past_other_words(text: str, expected: Spans) -> None:
    assert _groups(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a country's name as its people's adjective (presidio-evaluator's name sets say "brazil")
    ("i have a new zealand passport", [("NRP", "new zealand")]),
    ("I hold a New Zealand passport.", [("NRP", "New Zealand")]),
    ("i'm new zealand", [("NRP", "new zealand")]),
    ("my wife is new zealand", [("NRP", "new zealand")]),
    ("we're a brazil family", [("NRP", "brazil")]),
    # a place, or a word, otherwise
    ("i'm flying to new zealand next week", []),
    ("my new zealand trip was great", []),
    ("we're crossing the canada border", []),
    ("a turkey family dinner", []),
    ("send us citizen forms", []),
])
def test_country_names_as_adjectives(text: str, expected: Spans) -> None:
    assert _groups(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("the brazil government formally began the process", [("NRP", "brazil")]),
    ("it serves great new zealand food", [("NRP", "new zealand")]),
    ("there's this nice new vatican place downtown", [("NRP", "vatican")]),
    ("the china plates arrived broken", []),
])
def test_country_names_before_a_nations_things(text: str, expected: Spans) -> None:
    view = View.of(text)
    assert [(f.entity_type, text[f.start:f.end]) for f in places.groups_of_things(view)] \
        == expected


@pytest.mark.parametrize(("text", "expected"), [
    # accents folded, and letters decoded twice as presidio-evaluator's data has them
    ("i'm québécois", [("NRP", "québécois")]),
    ("we are proud monégasque", [("NRP", "monégasque")]),
    ("i am monã©gasque but i live in canada", [("NRP", "monã©gasque")]),
    ("my father was métis", [("NRP", "métis")]),
    # hyphened prefixes
    ("my neighbours are afro-caribbean", [("NRP", "afro-caribbean")]),
    ("we're afro-latino", [("NRP", "afro-latino")]),
    ("my family is scotch-irish", [("NRP", "scotch-irish")]),
    ("she's anglo-indian", [("NRP", "anglo-indian")]),
    # more peoples, faiths' branches, parties and their supporters
    ("my grandmother was seminole", [("NRP", "seminole")]),
    ("we're assyrian", [("NRP", "assyrian")]),
    ("i'm a greenlander", [("NRP", "greenlander")]),
    ("my wife is southern baptist", [("NRP", "southern baptist")]),
    ("we are eastern orthodox", [("NRP", "eastern orthodox")]),
    ("i'm reform jewish", [("NRP", "reform jewish")]),
    ("my religion is bahaism", [("NRP", "bahaism")]),
    ("i vote for the snp", [("NRP", "snp")]),
    ("i donate to plaid cymru", [("NRP", "plaid cymru")]),
    ("i'm a lib dem", [("NRP", "lib dem")]),
    ("the new democratic party", [("NRP", "new democratic party")]),
    ("i'm a labour voter", [("NRP", "labour voter")]),
    ("my dad is a trump supporter", [("NRP", "trump supporter")]),
    ("we're first nations people", [("NRP", "first nations people")]),
    ("the latter-day saints next door", [("NRP", "latter-day saints")]),
    ("the gypsies were camped there", [("NRP", "gypsies")]),
    # and their words otherwise
    ("i need roma tomatoes", []),
    ("the mohawk haircut costs extra", []),
    ("the new democratic process", []),
    ("the reform bill passed", []),
    ("play your trump card", []),
    ("southern comfort", []),
    ("a plaid shirt", []),
    ("the first time i called", []),
])
def test_more_groups(text: str, expected: Spans) -> None:
    assert _groups(text) == expected


@pytest.mark.parametrize(("text", "fixed"), [
    ("polish the car", True),
    ("can you polish it up", True),
    ("the indian ocean", True),
    ("an independent living facility", True),
    ("polish sausage", False),
    ("indian food", False),
])
def test_fixed_names(text: str, fixed: bool) -> None:
    toks = tokenize(text)
    at = next(k for k, t in enumerate(toks) if t.low in ("polish", "indian", "independent"))
    assert lexicalised(toks, at) is fixed


@pytest.fixture(scope="module")
def engine() -> RedactionEngine:
    return shared_engine(MODEL)


@pytest.mark.parametrize(("text", "expected"), [
    ("as a jehovah's witness i can't accept blood", [("NRP", "jehovah's witness")]),
    ("I hold a New Zealand passport.", [("NRP", "New Zealand")]),
    ("the poles next door are lovely", [("NRP", "poles")]),
    ("can you polish the car before pickup", []),
    ("the indian ocean cruise was cancelled", []),
])
def test_whole_engine(engine: RedactionEngine, text: str, expected: Spans) -> None:
    assert redacted(engine, text) == expected


def test_new_rules_linear() -> None:
    assert_linear("the poles next door a lot of swedes live she's half uh english we are both "
                  "black i have a new zealand passport the brazil government monã©gasque "
                  "afro-caribbean the new democratic party tories as a kiwi i ",
                  [places.recognize, places.groups_of_things])
