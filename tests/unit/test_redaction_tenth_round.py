"""Issue 19, tenth round: names that are ordinary words, known by the company they keep,
table-driven. Every case is written for these tests (never taken from the blind set or the tuning
sets): a listed word said in a list with a name found ("centeno and woods"), said as someone's
work or kin ("though bell's song"), named by a verb of saying at a clause's end ("says mclean"),
a first and last name after an introduction ("the passenger is rose baker"), and the ordinary
speech the same words make, which must stay."""

from __future__ import annotations

import pytest

from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.recognizers import name_links
from services.redaction.results import DETECTOR_VERSION
from tests.unit.redaction_support import MODEL, Spans, assert_linear, redacted, spans


@pytest.fixture(scope="module")
def engine() -> RedactionEngine:
    return shared_engine(MODEL)


def test_detector_version() -> None:
    assert DETECTOR_VERSION.startswith("voxledger-speech/")
    assert int(DETECTOR_VERSION.rsplit("/", 1)[1]) >= 12


@pytest.mark.parametrize(("text", "expected"), [
    # a word-like name as someone's work or kin
    ("though bell's song was about a boat", [("PERSON", "bell")]),
    ("i think washington's novel is better", [("PERSON", "washington")]),
    ("he is christian's kid", [("PERSON", "christian")]),
    # a verb of saying or billing, then a name ending the clause
    ("that is the plan says mclean", [("PERSON", "mclean")]),
    ("a comedy starring collins.", [("PERSON", "collins")]),
    # a first and last name after an introduction
    ("the passenger is rose baker", [("PERSON", "rose baker")]),
    ("the other guest was chase young", [("PERSON", "chase young")]),
    ("yes this is fergal o'donoghue", [("PERSON", "fergal o'donoghue")]),
])
def test_names_by_their_cue(text: str, expected: Spans) -> None:
    assert spans(text, name_links.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("centeno and woods were partners", ["centeno", "woods"]),
    ("my partners are jennifer and woods", ["jennifer", "woods"]),
    ("jennifer, white and harris signed it", ["jennifer", "white", "harris"]),
    ("the kids are amber jennifer and tobias", ["amber jennifer", "tobias"]),
    ("we invited kwame victor and siobhan", ["kwame victor", "siobhan"]),
])
def test_names_said_in_a_list(engine: RedactionEngine, text: str, expected: list[str]) -> None:
    assert [v for k, v in redacted(engine, text) if k == "PERSON"] == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a trap word next to a name stays a word when the words after it say so
    ("ask tobias and mark the date", ["tobias"]),
    ("jennifer and will you send it", ["jennifer"]),
    ("jennifer and grace period", ["jennifer"]),
])
def test_trap_words_by_a_name_stay(engine: RedactionEngine, text: str,
                                   expected: list[str]) -> None:
    assert [v for k, v in redacted(engine, text) if k == "PERSON"] == expected


@pytest.mark.parametrize("text", [
    "will you call me back",
    "is there a grace period",
    "can you bill me later",
    "my appointment is in june",
    "i walked in the woods and the park",
    "the bell's ringing again",
    "the company's address changed",
    "it's rose gold",
    "this is grace period stuff",
    "that is what she said.",
    "the white and blue one",
])
def test_ordinary_speech_stays(engine: RedactionEngine, text: str) -> None:
    assert [v for k, v in redacted(engine, text) if k == "PERSON"] == []


def test_scan_is_linear() -> None:
    assert_linear("the passenger is rose baker says mclean though bell's song ",
                  [name_links.recognize])
