"""Issue 19, fourth round: the shapes presidio-evaluator's templates and Faker's en_US values
produce, table-driven. Every case is written for these tests (never taken from the blind set or
the tuning sets): whole addresses with their town, state, country and ZIP; military mail;
streets without a number; Faker's town shapes and country spellings; titles with word-like
surnames, middle initials; and the ordinary speech that must stay."""

from __future__ import annotations

import pytest

from services.redaction.context import from_agent_turn
from services.redaction.recognizers import View, address, names, places, recognize_all
from tests.unit.redaction_support import Spans, spans

ADDRESSES = [
    # the town, state (name or code), country and ZIP go with the street
    ("ship it to 4410 Quincy Hollow Apt. 12 Stevenmouth NV 80211 please",
     [("STREET_ADDRESS", "4410 Quincy Hollow Apt. 12 Stevenmouth NV 80211")]),
    ("it's 88 garza valleys suite 301 north kimberly wy",
     [("STREET_ADDRESS", "88 garza valleys suite 301 north kimberly wy")]),
    ("send it to 12 Olsen Trace, Port Gregory, Trinidad and Tobago 44120",
     [("STREET_ADDRESS", "12 Olsen Trace, Port Gregory, Trinidad and Tobago 44120")]),
    # a state code that is a word only before a ZIP code or the end
    ("my address is 9 hale ridge apt 2 lindaburgh in 47701",
     [("STREET_ADDRESS", "9 hale ridge apt 2 lindaburgh in 47701")]),
    ("it's 310 pruitt course bradyville me", [("STREET_ADDRESS", "310 pruitt course bradyville me")]),
    # a second unit
    ("it's 51 novak drive apt 4 apt 9 eastbury ok",
     [("STREET_ADDRESS", "51 novak drive apt 4 apt 9 eastbury ok")]),
    # two street names and a unit, no house number
    ("the address is walsh crossing tammy mall suite 17 west dustin",
     [("STREET_ADDRESS", "walsh crossing tammy mall suite 17 west dustin")]),
    # military mail
    ("mail goes to psc 4471, box 0193, apo ae 09012",
     [("STREET_ADDRESS", "psc 4471, box 0193, apo ae 09012")]),
    ("unit 2210 box 7781 dpo ap 96543 is my address",
     [("STREET_ADDRESS", "unit 2210 box 7781 dpo ap 96543")]),
    ("it's usns holloway fpo aa 34021", [("STREET_ADDRESS", "usns holloway fpo aa 34021")]),
    # streets without a number: a name and any USPS suffix after "on"/"of"
    ("the pharmacy is on garcia crossing", [("STREET_ADDRESS", "garcia crossing")]),
    ("we're on the far end of wheeler passage", [("STREET_ADDRESS", "wheeler passage")]),
    # intersections, with what is said before them
    ("take me to the corner of nolan pines and erickson spur",
     [("STREET_ADDRESS", "the corner of nolan pines and erickson spur")]),
    ("deliver it to megan and hodge turnpike", [("STREET_ADDRESS", "megan and hodge turnpike")]),
    # a PO box and its town
    ("send it to p o box nine one two boise", [("STREET_ADDRESS", "p o box nine one two boise")]),
]
KEPT_ADDRESSES = [
    "it's thirty five each way so seventy total",
    "the tickets are twenty per lane",
    "i live at 12 elm street with my wife",
    "we met at 5 main street last night",
    "please return it to 40 oak avenue thanks",
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_addresses_fourth_round(text: str, expected: Spans) -> None:
    assert spans(text, address.recognize) == expected


@pytest.mark.parametrize("text", KEPT_ADDRESSES)
def test_address_tail_stops(text: str) -> None:
    found = spans(text, address.recognize)
    assert all(not value.endswith(("total", "lane", "wife", "night", "thanks"))
               for _, value in found), found
    if "each way" in text or "per lane" in text:
        assert found == []


PLACES = [
    # Faker's towns: a prefix and a first name after a cue, a name and a town suffix anywhere
    ("i grew up in west april", [("LOCATION", "west april")]),
    ("we moved here from east christian", [("LOCATION", "east christian")]),
    ("the parcel got to burgesston yesterday", [("LOCATION", "burgesston")]),
    ("we drove through davidberg", [("LOCATION", "davidberg")]),
    # Faker's spellings of countries
    ("she moved here from the netherlands", [("LOCATION", "the netherlands")]),
    ("i'm originally from korea", [("LOCATION", "korea")]),
    ("we're from the russian federation", [("LOCATION", "russian federation")]),
]
KEPT_PLACES = [
    "i'd like the honey glazed ham from the holiday menu",
    "the coffee maker leaks from the bottom",
    "the seat by the window is fine",
    "my kids love the paris collection bedding",
]


@pytest.mark.parametrize(("text", "expected"), PLACES)
def test_places_fourth_round(text: str, expected: Spans) -> None:
    assert spans(text, places.recognize) == expected


@pytest.mark.parametrize("text", KEPT_PLACES)
def test_places_kept(text: str) -> None:
    assert [s for s in spans(text, places.recognize) if s[0] == "LOCATION"] == []


GROUPS = [
    ("i've always voted labour", [("NRP", "labour")]),
    ("i'm spanish and my wife is greek", [("NRP", "spanish"), ("NRP", "greek")]),
]
KEPT_GROUPS = [
    "the manual was in english and spanish",
    "can you say that in french",
    "she speaks portuguese at home",
]


@pytest.mark.parametrize(("text", "expected"), GROUPS)
def test_groups_fourth_round(text: str, expected: Spans) -> None:
    assert spans(text, places.recognize) == expected


@pytest.mark.parametrize("text", KEPT_GROUPS)
def test_languages_are_not_groups(text: str) -> None:
    view = View.of(text, from_agent_turn(None), "caller")
    assert [f for f in places.recognize(view) if f.entity_type == "NRP"] == []
    for tok in view.tokens:  # what spaCy would tag NRP is dropped as well
        if tok.low in ("spanish", "english", "french", "portuguese"):
            assert places.group_of_a_thing(view, tok.start, tok.end), tok.text


NAMES = [
    # a title and a surname that is also a word
    ("dr white will see you at noon", [("PERSON", "white")]),
    ("mrs young called about the bill", [("PERSON", "young")]),
    ("mx arias booked the room", [("PERSON", "arias")]),
    # a middle initial, with or without its period
    ("please put it under katelyn l hughes", [("PERSON", "katelyn l hughes")]),
    ("the cardholder is Marcus T. Whitfield", [("PERSON", "Marcus T. Whitfield")]),
    # a word-like first name and a Faker surname after "called"/"named"
    ("my grandmother was called holly snow", [("PERSON", "holly snow")]),
    # a word-like name after "speaking with"
    ("am i speaking with frank", [("PERSON", "frank")]),
]
KEPT_NAMES = [
    "my kids love the collection you sent",
    "we ordered the grand canyon puzzle",
    "i want the virginia ham and the swiss cheese",
    "my doctor told me to rest",
    "am i speaking with billing",
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_names_fourth_round(text: str, expected: Spans) -> None:
    assert spans(text, names.recognize) == expected


@pytest.mark.parametrize("text", KEPT_NAMES)
def test_names_kept(text: str) -> None:
    assert spans(text, names.recognize) == []


@pytest.mark.parametrize("text", [
    "my kids love the paris collection bedding",
    "it's thirty five each way",
    "the english muffins were stale",
    "i want the virginia ham and the swiss cheese",
])
def test_template_like_lines_stay_clean(text: str) -> None:
    view = View.of(text, from_agent_turn(None), "caller")
    assert [(f.entity_type, text[f.start:f.end]) for f in recognize_all(view)] == []


def test_faker_lists_are_listed() -> None:
    """Every first and last name Faker's en_US provider emits is on a name list (word-like ones
    through ``listed_name``, the reader for places where a name is expected)."""
    from faker.providers.person.en_US import Provider

    missing = [n for n in (*Provider.first_names, *Provider.last_names)
               if not names.listed_name(n.lower())]
    assert missing == []
