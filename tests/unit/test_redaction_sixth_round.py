"""Issue 19, sixth round: general mechanisms, table-driven. Every case is written for these tests
(never taken from the blind set or the tuning sets): the policy's NRP scope (groups said of
people by default, every mention under ``all``); race words said of a person; words that are a
group only when said of someone and not before a trade; a question's opening verb; prompts
without a question word; dates with their cue after them, fillers inside, or a year long past;
landmarks ending a place's name; more cues of nearness, roads and touring; names beside a role
or after a naming verb; and the ordinary speech that must stay."""

from __future__ import annotations

import pytest

from services.redaction.context import Topic, from_agent_turn
from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.policy import DEFAULT_POLICY, RedactionPolicy
from services.redaction.recognizers import View, dates, place_cues, places, roles
from tests.unit.redaction_support import MODEL, Spans, redacted, spans


@pytest.fixture(scope="module")
def engine() -> RedactionEngine:
    return shared_engine(MODEL)


def groups(view: View) -> list[object]:
    return [f for f in places.recognize(view) if f.entity_type == "NRP"]


# --- the policy's NRP scope

def test_policy_records_nrp_scope_and_its_version() -> None:
    assert DEFAULT_POLICY.nrp_scope == "all"  # stock Presidio's coverage by default (v4)
    assert DEFAULT_POLICY.version == 4
    assert RedactionPolicy(nrp_scope="people").policy_hash != DEFAULT_POLICY.policy_hash


@pytest.mark.parametrize(("text", "people", "every"), [
    # a group word for a thing: kept under "people", redacted as stock Presidio does under
    # "all" (the default)
    ("can i get the korean barbecue platter", [], [("NRP", "korean")]),
    ("does the card charge fees on norwegian krone", [], [("NRP", "norwegian")]),
    # said of people: redacted either way
    ("my stepfather is lebanese", [("NRP", "lebanese")], [("NRP", "lebanese")]),
    # a language is no group under either scope
    ("could someone explain it in portuguese", [], []),
])
def test_nrp_scope(engine: RedactionEngine, text: str, people: Spans, every: Spans) -> None:
    assert redacted(engine, text, policy=RedactionPolicy(nrp_scope="people")) == people
    assert redacted(engine, text) == every


@pytest.mark.parametrize(("text", "expected"), [
    ("we ordered peruvian ceviche for the party", [("NRP", "peruvian")]),
    ("she's a proud cuban", []),  # said of a person: not a thing
    ("i'd rather talk in dutch", []),  # a language
])
def test_groups_of_things(text: str, expected: Spans) -> None:
    assert spans(text, places.groups_of_things) == expected


# --- groups said of people

@pytest.mark.parametrize(("text", "expected"), [
    # a race word before a noun for a person, or after "was" with a person before it
    ("the officer stopped a black man on our street", [("NRP", "black")]),
    ("the lady at the desk was white i think", [("NRP", "white")]),
    ("i'm brown and my husband is too", [("NRP", "brown")]),
    # a race word for a thing stays
    ("the truck that hit me was white", []),
    ("i'm looking for a black charger", []),
    ("the screen goes white then black", []),
    # a group only when said of someone, not before a trade
    ("i'm an independent voter", [("NRP", "independent voter")]),
    ("i'm an independent contractor", []),
    ("she is a liberal", [("NRP", "liberal")]),
    ("i'm a moderate risk taker", []),
    # pairs
    ("my grandmother was native alaskan", [("NRP", "native alaskan")]),
])
def test_groups_of_people(text: str, expected: Spans) -> None:
    assert spans(text, groups) == expected


@pytest.mark.parametrize("text", [
    "is french toast on the kids menu",
    "are mexican pesos accepted at the desk",
])
def test_a_question_verb_says_nothing_of_anyone(text: str) -> None:
    view = View.of(text, from_agent_turn(None), "caller")
    tok = view.tokens[1]
    assert places.group_of_a_thing(view, tok.start, tok.end)
    assert groups(view) == []


# --- prompts without a question word

@pytest.mark.parametrize(("agent", "topic"), [
    ("date of birth", Topic.DOB),
    ("and the zip code", Topic.ZIP),
    ("email address please", Topic.EMAIL),
    ("when were you born", Topic.DOB),
])
def test_short_prompts_ask(agent: str, topic: Topic) -> None:
    assert topic in from_agent_turn(agent).asked


@pytest.mark.parametrize("agent", [
    "your card was declined",  # states, does not ask
    "i see the date of birth on file from when you opened the account last year",
])
def test_statements_do_not_ask(agent: str) -> None:
    assert Topic.CARD not in from_agent_turn(agent).asked
    assert Topic.DOB not in from_agent_turn(agent).asked


# --- dates

@pytest.mark.parametrize(("text", "agent", "expected"), [
    # the cue after the date
    ("august fifth seventy three is my mom's birthday", None,
     [("DATE_OF_BIRTH", "august fifth seventy three")]),
    ("it's twelve june ninety one on my birth certificate", None,
     [("DATE_OF_BIRTH", "twelve june ninety one")]),
    # a filler inside the date
    ("the third of um october sixty", "and your date of birth",
     [("DATE_OF_BIRTH", "third of um october sixty")]),
    # a whole date in a year long past, no cue
    ("the second of february nineteen eighty seven", None,
     [("DATE_OF_BIRTH", "second of february nineteen eighty seven")]),
    # dates in the calendar stay
    ("can we do the second of february instead", None, []),
    ("the renewal was on may tenth twenty twenty two", None, []),
    ("i moved in march nineteen ninety", None, []),  # no day: not a whole date
])
def test_dates(text: str, agent: str | None, expected: Spans) -> None:
    assert spans(text, dates.recognize, agent) == expected


# --- places

@pytest.mark.parametrize(("text", "expected"), [
    # a landmark's noun ends its name
    ("our building is across from fenway park", [("LOCATION", "fenway park")]),
    ("i'm two blocks from haymarket square", [("LOCATION", "haymarket square")]),
    ("we live behind the ferncliff stadium", [("LOCATION", "ferncliff stadium")]),
    # after "the", only a rare word names it
    ("i'm waiting at the bus station", []),
    ("we're near the farmers market", []),
])
def test_landmarks(text: str, expected: Spans) -> None:
    assert spans(text, place_cues.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("i'm out by bakersfield most weekends", [("LOCATION", "bakersfield")]),
    ("we got a flat on the way to chattanooga", [("LOCATION", "chattanooga")]),
    ("we were driving through knoxville", [("LOCATION", "knoxville")]),
    ("we're touring the dordogne", [("LOCATION", "the dordogne")]),
    ("i'm staying with friends in tralee", [("LOCATION", "tralee")]),
    # a number is no place
    ("the bill went up by forty dollars", []),
    ("my son in college pays it", []),
])
def test_place_cues(text: str, expected: Spans) -> None:
    assert spans(text, places.recognize) == expected


def test_places_compared(engine: RedactionEngine) -> None:
    assert redacted(engine, "it's nearer to fresno than modesto") == [
        ("LOCATION", "fresno"), ("LOCATION", "modesto")]


# --- names

@pytest.mark.parametrize(("text", "expected"), [
    ("the delivery guy marek said he left it", [("PERSON", "marek")]),
    ("the nurse dolores told me to fast", [("PERSON", "dolores")]),
    ("everyone here knows me but i go by duke", [("PERSON", "duke")]),
    ("she's known as bea", [("PERSON", "bea")]),
    # not a name: an everyday word, a function word, a way of travel
    ("the lady upstairs said it's fine", []),
    ("the agent then said to wait", []),
    ("i go by bus on weekdays", []),
])
def test_roles_and_naming(text: str, expected: Spans) -> None:
    assert spans(text, roles.recognize) == expected


@pytest.mark.parametrize("n", [10_000, 40_000])
def test_roles_linear(n: int) -> None:
    text = " ".join(["the guy said"] * (n // 3))
    assert spans(text, roles.recognize) == []
