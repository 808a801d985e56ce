"""Issue 19, eleventh round, table-driven. Every case is written for these tests (never taken
from the blind set or the tuning sets): word-like first names in a slot only a person fills, a
first and last name opening the line, replies to a name question, days said of a life event,
group words inside a thing's fixed name, and the ordinary speech the same words make, which
must stay."""

from __future__ import annotations

import pytest

from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.recognizers import compounds, dates, name_slots
from services.redaction.results import DETECTOR_VERSION
from services.redaction.spoken import tokenize
from tests.unit.redaction_support import MODEL, Spans, assert_linear, redacted, spans


@pytest.fixture(scope="module")
def engine() -> RedactionEngine:
    return shared_engine(MODEL)


def _people(engine: RedactionEngine, text: str, agent: str | None = None) -> list[str]:
    return [v for k, v in redacted(engine, text, agent) if k == "PERSON"]


def test_detector_version() -> None:
    assert DETECTOR_VERSION.startswith("voxledger-speech/")
    assert int(DETECTOR_VERSION.rsplit("/", 1)[1]) >= 13


@pytest.mark.parametrize(("text", "expected"), [
    # beside "my" and a relation or a role, either way round
    ("summer my cousin is picking it up", [("PERSON", "summer")]),
    ("it's for autumn my niece", [("PERSON", "autumn")]),
    ("my brother in law grant signed for it", [("PERSON", "grant")]),
    ("my brother in law will drove there", [("PERSON", "will")]),
    ("the technician ray was late", [("PERSON", "ray")]),
    ("my pal little ivy booked the flight", [("PERSON", "ivy")]),
    ("my plumber is dale", [("PERSON", "dale")]),
    # the subject of a role, the one spoken with, from a team, thanked by name
    ("penny is the primary holder", [("PERSON", "penny")]),
    ("hazel and iris are my twin girls", [("PERSON", "hazel"), ("PERSON", "iris")]),
    ("i talked to violet yesterday", [("PERSON", "violet")]),
    ("we spoke with heather and she said yes", [("PERSON", "heather")]),
    ("hi it's ruby from the front desk", [("PERSON", "ruby")]),
    ("thanks so much pearl", [("PERSON", "pearl")]),
    # said to someone after an acknowledgement
    ("okay oluwadamilare i see the charge", [("PERSON", "oluwadamilare")]),
    # the one a thing is held under, ending the clause
    ("the order is under wojciechowski", [("PERSON", "wojciechowski")]),
    ("it's booked under abernathy please", [("PERSON", "abernathy")]),
    # a first and last name opening the line, then the speaker's own words
    ("zelig brandauer calling about the bill", [("PERSON", "zelig brandauer")]),
])
def test_names_in_a_persons_slot(text: str, expected: Spans) -> None:
    assert spans(text, name_slots.recognize) == expected


@pytest.mark.parametrize("text", [
    "my son will call you tomorrow",
    "i hope my daughter gets the refund",
    "will my husband be covered",
    "mark my words",
    "my son is young",
    "my dad was lucky",
    "i spoke to chase about my card",
    "okay gotcha i see",
    "okay perfect i will",
    "thanks so much honey",
    "the rose is the best one",
    "april from the start was bad",
    "may from the look of it",
    "it's still under warranty",
    "the claim is under review",
    "it was under water",
])
def test_word_like_names_stay_words(text: str) -> None:
    assert spans(text, name_slots.recognize) == []


@pytest.mark.parametrize(("agent", "text", "expected"), [
    ("who am i talking to", "will", ["will"]),
    ("who do i have on the line", "it's um hope uh hope vandermeer",
     ["hope", "vandermeer"]),
])
def test_replies_to_a_name_question(engine: RedactionEngine, agent: str, text: str,
                                    expected: list[str]) -> None:
    words = {w for name in _people(engine, text, agent) for w in name.split()}
    assert words - {"uh", "um"} == set(expected)


def test_a_verb_in_a_reply_stays(engine: RedactionEngine) -> None:
    assert _people(engine, "yes i will", "can you confirm the name on the account") == []


@pytest.mark.parametrize(("text", "agent", "expected"), [
    ("my grandmother died on november ninth", None, "november ninth"),
    ("we had the crash on the third of june", None, "third of june"),
    ("she was diagnosed in may twenty twenty one", None, "may twenty twenty one"),
    ("february eleventh last year", "when was the surgery", "february eleventh last year"),
    ("july fourth a couple of years ago", "date of loss", "july fourth a couple of years ago"),
    ("he fell on friday the thirteenth", None, "friday the thirteenth"),
])
def test_days_of_a_life_event(text: str, agent: str | None, expected: str) -> None:
    assert spans(text, dates.recognize, agent) == [("DATE_TIME", expected)]


@pytest.mark.parametrize("text", [
    "my appointment is on november ninth",
    "the payment is due june third",
    "we fly out tuesday the fourth",
    "i'll be home in march",
])
def test_calendar_days_stay(text: str) -> None:
    assert spans(text, dates.recognize) == []


@pytest.mark.parametrize(("text", "word", "fixed"), [
    ("the dutch oven is chipped", "dutch", True),
    ("two english muffins please", "english", True),
    ("a german shepherd puppy", "german", True),
    ("can i add a danish", "danish", True),
    ("the thai food was cold", "thai", False),
    ("the italian leather sofa", "italian", False),
    ("she's a danish citizen", "danish", False),
    ("my wife is french", "french", False),
])
def test_group_words_in_a_things_name(text: str, word: str, fixed: bool) -> None:
    toks = tokenize(text)
    at = next(k for k, t in enumerate(toks) if t.low == word)
    assert compounds.lexicalised(toks, at) is fixed


@pytest.mark.parametrize(("text", "kept"), [
    ("the swiss army knife is blunt", True),
    ("my german shepherd ate it", True),
    ("a boston terrier", True),
    ("the mexican bakery closed", False),
    ("my neighbours are swiss", False),
])
def test_no_group_in_a_things_name(engine: RedactionEngine, text: str, kept: bool) -> None:
    found = [v for k, v in redacted(engine, text) if k in ("NRP", "PERSON", "LOCATION")]
    assert (found == []) is kept


def test_scans_are_linear() -> None:
    assert_linear("frank my neighbor said rose is the joint holder i spoke with carol "
                  "okay priyanka i see ", [name_slots.recognize])
    assert_linear("my father passed on march third sunday the second last year ",
                  [dates.recognize])
