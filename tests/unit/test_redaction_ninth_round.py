"""Issue 19, ninth round: groups said of people, table-driven. Every case is written for these
tests (never taken from the blind set or the tuning sets): every demonym form presidio-evaluator's
nationality data says (``bench/build_nationalities.py``: "burkinese", "costrican", "monacans");
plural group nouns after a verb or adjective ("proud danes", "englishmen", "new zealanders"); a
group noun after "i'm a" typed as a group, not a name ("i am a dane"); and the group words said
of things (food, a government) and the ordinary speech that must stay."""

from __future__ import annotations

import pytest

from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.policy import RedactionPolicy
from services.redaction.recognizers.lexicon import zipf
from services.redaction.recognizers.nationalities import NATIONALITIES
from tests.unit.redaction_support import MODEL, Spans, redacted


@pytest.fixture(scope="module")
def engine() -> RedactionEngine:
    return shared_engine(MODEL)


def test_nationality_lexicon_has_no_common_word() -> None:
    assert {"burkinese", "costrican", "sierrleonian", "monacan"} <= NATIONALITIES
    assert not {w for w in NATIONALITIES if zipf(w) >= 3.5}
    assert not {"vatican", "philippine", "poles", "dane", "swede"} & NATIONALITIES


@pytest.mark.parametrize(("text", "expected"), [
    # presidio-evaluator's spellings, every form
    ("he is burkinese", [("NRP", "burkinese")]),
    ("my wife is costrican", [("NRP", "costrican")]),
    ("they are costricans", [("NRP", "costricans")]),
    ("he is a sierrleonian", [("NRP", "sierrleonian")]),
    ("she is monacan", [("NRP", "monacan")]),
    ("my uncle is madagascan", [("NRP", "madagascan")]),
    # plural group nouns after a verb or an adjective
    ("we are proud danes", [("NRP", "danes")]),
    ("my neighbours are filipinos", [("NRP", "filipinos")]),
    ("my parents are swedes", [("NRP", "swedes")]),
    ("my friends are englishmen", [("NRP", "englishmen")]),
    ("we are new zealanders", [("NRP", "new zealanders")]),
    # a group noun after "i'm a": a group, not a name
    ("i am a dane", [("NRP", "dane")]),
    ("i'm a finn", [("NRP", "finn")]),
    ("she's a frenchwoman", [("NRP", "frenchwoman")]),
    ("i'm an icelander", [("NRP", "icelander")]),
    ("my husband is an irishman", [("NRP", "irishman")]),
    # a demonym that is an everyday word too, said of someone; two-word forms
    ("i am vatican but i live in rome", [("NRP", "vatican"), ("LOCATION", "rome")]),
    ("i am a vatican citizen", [("NRP", "vatican")]),
    ("we are proud middle-easterns", [("NRP", "middle-easterns")]),
    ("i am a us citizen", [("NRP", "us citizen")]),
])
def test_groups_said_of_people(engine: RedactionEngine, text: str, expected: Spans) -> None:
    assert redacted(engine, text) == expected


@pytest.mark.parametrize("text", [
    "can we get thai food tonight",
    "the danish government raised the tax",
    "i love danish pastries",
    "is the vatican open on sunday",
    "i'd like the spanish omelette and a coffee",
])
def test_group_words_of_things_stay_under_people_scope(engine: RedactionEngine,
                                                        text: str) -> None:
    assert redacted(engine, text, policy=RedactionPolicy(nrp_scope="people")) == []


@pytest.mark.parametrize(("text", "expected"), [
    # the default scope ("all", policy v4) redacts them as stock Presidio does
    ("can we get thai food tonight", [("NRP", "thai")]),
    ("the danish government raised the tax", [("NRP", "danish")]),
])
def test_group_words_of_things_by_default(engine: RedactionEngine, text: str,
                                          expected: Spans) -> None:
    assert redacted(engine, text) == expected


@pytest.mark.parametrize("text", [
    # plurals of everyday words stay when not said of someone
    "the tent poles are in the bag",
    "the news was bad",
    "can you send us citizen services forms",
    "the kiwis in the fridge",
])
def test_ordinary_speech_stays(engine: RedactionEngine, text: str) -> None:
    assert redacted(engine, text) == []
