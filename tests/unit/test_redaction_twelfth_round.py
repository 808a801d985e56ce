"""Issue 19, twelfth round, table-driven. Every case is written for these tests (never taken
from the blind set or the tuning sets): names as ASR writes them down (East Asian names split
into syllables after an introduction, a name broken mid-word and said again whole, a name
corrected after "sorry"), race words an agent says of a person or a caller gives to an
ethnicity question, "the texas one", names owning a prescription, ending a list of names, added
to an account or given a birthday gift, said before the role a caller holds or before "my first
name", opening a line about the speaker's relation, a family by its surname, and the ordinary
speech the same words make, which must stay."""

from __future__ import annotations

import pytest

from services.redaction.context import from_agent_turn
from services.redaction.recognizers import asr_names, name_links, name_slots, places, possessive
from services.redaction.recognizers.base import Finding, View
from services.redaction.results import DETECTOR_VERSION
from tests.unit.redaction_support import Spans, assert_linear, spans


def test_detector_version() -> None:
    assert DETECTOR_VERSION.startswith("voxledger-speech/")
    assert int(DETECTOR_VERSION.rsplit("/", 1)[1]) >= 14


@pytest.mark.parametrize(("text", "expected"), [
    # syllables of a romanized name after an introduction
    ("hi i'm ji hoon baek", [("PERSON", "ji hoon baek")]),
    ("yeah it's nguyen thi huong", [("PERSON", "nguyen thi huong")]),
    ("my name is zhao xiu ying and i'm calling about a refund",
     [("PERSON", "zhao xiu ying")]),
    ("this is kwok siu fai from accounts", [("PERSON", "kwok siu fai")]),
    ("call me hyo jin", [("PERSON", "hyo jin")]),
    # a name broken in two and said whole beside it
    ("it's bi ola biola", [("PERSON", "bi"), ("PERSON", "ola"), ("PERSON", "biola")]),
    ("the guest is oluwa tobi oluwatobi smith",
     [("PERSON", "oluwa"), ("PERSON", "tobi"), ("PERSON", "oluwatobi smith")]),
    # a name corrected after "sorry", "i mean"
    ("it's under hanley no sorry henley", [("PERSON", "hanley"), ("PERSON", "henley")]),
    ("ask for marta i mean martha", [("PERSON", "marta"), ("PERSON", "martha")]),
])
def test_names_as_asr_writes_them(text: str, expected: Spans) -> None:
    assert spans(text, asr_names.recognize) == expected


@pytest.mark.parametrize("text", [
    "it's long gone now",
    "i'm so sorry about that",
    "it's hung up on the wall",
    "yeah it's sun and rain all week",
    "i mean it's any way anyway",
    "the bill was fifteen no sorry fifty dollars",
    "it was monday sorry tuesday",
    "the ping pong table arrived",
    "we can not cannot do that",
])
def test_ordinary_speech_stays(text: str) -> None:
    assert spans(text, asr_names.recognize) == []


def test_asr_names_linear() -> None:
    assert_linear("i'm lee seo yeon and it's ah med ahmed no sorry ahmad then tran quoc bao ",
                  [asr_names.recognize])


@pytest.mark.parametrize(("text", "agent", "expected"), [
    # a race word before a person noun, in the agent's words too
    ("so the driver was a white man in a red cap", None, [("NRP", "white")]),
    ("the screen went black on me", None, []),
    ("black", "and what race should i put down", [("NRP", "black")]),
    ("uh white i guess", "ethnicity for the survey", [("NRP", "white")]),
    ("the white one", "what race is it", []),
    ("white please", "which colour would you like", []),
    # "the <state or big city> one": which place is meant
    ("no not the ohio one the other", None, [("LOCATION", "ohio")]),
    ("i want the black one", None, []),
])
def test_groups_and_places(text: str, agent: str | None, expected: Spans) -> None:
    assert spans(text, places.recognize, agent) == expected


def test_agent_describes_a_person() -> None:
    view = View.of("the patient is a black woman in her forties", speaker="agent")
    assert [(f.entity_type, view.text[f.start:f.end]) for f in places.recognize(view)] == [
        ("NRP", "black")]


@pytest.mark.parametrize(("text", "expected"), [
    ("i'm calling about okonkwo's prescription", [("PERSON", "okonkwo")]),
    ("is adaeze's appointment still on", [("PERSON", "adaeze")]),
    ("the pharmacy's prescription line", []),
    ("the doctor's appointment was moved", []),
])
def test_possessive_records(text: str, expected: Spans) -> None:
    assert spans(text, possessive.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("put grace on the account as well", [("PERSON", "grace")]),
    ("please take jordan off the lease", [("PERSON", "jordan")]),
    ("we got it for joy for her anniversary", [("PERSON", "joy")]),
    # the caller's own word before the role they hold, a surname before "my first name"
    ("hi i'm marigold the primary account holder", [("PERSON", "marigold")]),
    ("yes it's nakamura my first name is emi", [("PERSON", "nakamura")]),
    # a name opening the line, said to be the speaker's relation a few words on
    ("jordan paid it last week she's my niece", [("PERSON", "jordan")]),
    # a listed surname in the plural after "the": a family
    ("we're having dinner with the hendersons", [("PERSON", "hendersons")]),
    ("it's a gift from the davises", [("PERSON", "davises")]),
    ("we got lost in the woods", []),
    ("the cooks were lovely", []),
    ("i'm sorry the owner is not in", []),
    ("i'm confused the policyholder never signed", []),
    ("i'm also the account holder", []),
    ("put money on the account", []),
    ("add my son to the policy", []),
    ("we got it for christmas for her birthday", []),
])
def test_names_in_a_callers_slot(text: str, expected: Spans) -> None:
    assert spans(text, name_slots.recognize) == expected


def _linked(text: str, name: str) -> Spans:
    view = View.of(text, from_agent_turn(None))
    lo = text.index(name)
    found = [Finding("PERSON", lo, lo + len(name), 0.8, "test")]
    return [(f.entity_type, text[f.start:f.end])
            for f in name_links.coordinated_names(view, found)]


@pytest.mark.parametrize(("text", "name", "expected"), [
    ("our two boys are kofi and ife", "kofi", [("PERSON", "ife")]),
    ("the tickets are for priya and dev.", "priya", [("PERSON", "dev")]),
    ("it's for priya and bread", "priya", []),
    ("priya and dev went home", "priya", []),
])
def test_last_name_in_a_list(text: str, name: str, expected: Spans) -> None:
    assert _linked(text, name) == expected


def test_new_rules_linear() -> None:
    assert_linear("put grace on the account for joy for her birthday and okonkwo's i'm amara "
                  "the account holder jordan paid he's my son it's oh my first name is ji "
                  "prescription the ohio one a black woman kofi and ife. ",
                  [places.recognize, name_slots.recognize, possessive.recognize,
                   name_links.recognize])
