"""Issue 19 recognizers, table-driven: identity documents, network identifiers, places and
groups, names as people say them, personal dates, each written and spoken, with and without
the agent's question. Tuning examples written from the issue, never from the blind set."""

from __future__ import annotations

import pytest

from services.redaction.context import from_agent_turn
from services.redaction.merge import merge
from services.redaction.recognizers import View, ids, names, network, places, recognize_all

Spans = list[tuple[str, str]]


def spans(text: str, agent: str | None = None, recognizer: object = None,
          speaker: str | None = "caller") -> Spans:
    view = View.of(text, from_agent_turn(agent), speaker)
    found = recognizer(view) if callable(recognizer) else recognize_all(view)
    return [(f.entity_type, text[f.start:f.end]) for f in merge(found, 0.35)]


IDS = [
    (None, "my passport number is A12345678", [("US_PASSPORT", "A12345678")]),
    ("What's your passport number?", "it's c as in charlie five three nine two oh one eight seven",
     [("US_PASSPORT", "c as in charlie five three nine two oh one eight seven")]),
    ("What's your passport number?", "five three nine, two oh one, double eight seven",
     [("US_PASSPORT", "five three nine, two oh one, double eight seven")]),
    ("Can I get your driver's license number?", "sure, D four one two, three three eight, nine oh one",
     [("US_DRIVER_LICENSE", "D four one two, three three eight, nine oh one")]),
    (None, "my driver's license is S530-4128-7712", [("US_DRIVER_LICENSE", "S530-4128-7712")]),
    (None, "my NHS number is 485 777 3456", [("UK_NHS", "485 777 3456")]),
    ("And your NHS number?", "four eight five, triple seven, three four five six",
     [("UK_NHS", "four eight five, triple seven, three four five six")]),
    (None, "my ITIN is 912-78-1234", [("US_ITIN", "912-78-1234")]),
    (None, "nine one two seven eight one two three four is my itin",
     [("US_ITIN", "nine one two seven eight one two three four")]),
    (None, "the IBAN is GB82WEST12345698765432", [("IBAN_CODE", "GB82WEST12345698765432")]),
    ("What's your medical license number?", "M D one two three four five six seven",
     [("MEDICAL_LICENSE", "M D one two three four five six seven")]),
    (None, "my DEA number is AB1234563", [("MEDICAL_LICENSE", "AB1234563")]),
    (None, "flight UA 1234 leaves at noon", []),
    (None, "order number AB123456 shipped", []),
    (None, "I have a 2 year old and a B12 deficiency", []),
]


@pytest.mark.parametrize(("agent", "text", "expected"), IDS)
def test_identity_documents(agent: str | None, text: str, expected: Spans) -> None:
    assert spans(text, agent, ids.recognize) == expected


NETWORK = [
    (None, "the router is one nine two dot one six eight dot one dot one hundred",
     [("IP_ADDRESS", "one nine two dot one six eight dot one dot one hundred")]),
    (None, "my ip is 10.0.0.5", [("IP_ADDRESS", "10.0.0.5")]),
    (None, "my website is johns plumbing dot com slash contact",
     [("URL", "johns plumbing dot com slash contact")]),
    (None, "go to www.example.org/help now", [("URL", "www.example.org/help")]),
    (None, "it's w w w dot acme dash widgets dot co dot uk",
     [("URL", "w w w dot acme dash widgets dot co dot uk")]),
    (None, "h t t p s colon slash slash acme blog dot io",
     [("URL", "h t t p s colon slash slash acme blog dot io")]),
    (None, "send it to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq please",
     [("CRYPTO", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")]),
    (None, "my eth wallet is 0x52908400098527886E0F7030069857D2E4169EE7",
     [("CRYPTO", "0x52908400098527886E0F7030069857D2E4169EE7")]),
    (None, "it costs 3.5 dollars and version 2.4.1 is out", []),
    (None, "email me at jane dot doe at gmail dot com", []),  # an email's, not a URL
]


@pytest.mark.parametrize(("agent", "text", "expected"), NETWORK)
def test_network(agent: str | None, text: str, expected: Spans) -> None:
    assert spans(text, agent, network.recognize) == expected


def test_a_wallet_read_out_is_crypto() -> None:
    text = "one a one z p one e p five q g e f i two d m p t f t l five s l m v"
    assert spans(text, "What's your bitcoin wallet address?") == [("CRYPTO", text)]


PLACES = [
    (None, "I live in Springfield, Illinois", [("LOCATION", "Springfield, Illinois")]),
    (None, "i'm calling from denver", [("LOCATION", "denver")]),
    (None, "we just moved to pinewood falls last year", [("LOCATION", "pinewood falls")]),
    (None, "I'm in San Francisco this week", [("LOCATION", "San Francisco")]),
    (None, "i grew up in ohio", [("LOCATION", "ohio")]),
    ("What city do you live in?", "Austin", [("LOCATION", "Austin")]),
    (None, "I'm Catholic and my family is Mexican", [("NRP", "Catholic"), ("NRP", "Mexican")]),
    (None, "i'm a registered democrat", [("NRP", "democrat")]),
    (None, "we're jehovah's witness", [("NRP", "jehovah's witness")]),
    (None, "Will you send the bill in June?", []),
    (None, "the grace period ends on Monday", []),
    (None, "I live in a house near the park", []),
    (None, "it's about a ten minute drive", []),
]


@pytest.mark.parametrize(("agent", "text", "expected"), PLACES)
def test_places_and_groups(agent: str | None, text: str, expected: Spans) -> None:
    assert spans(text, agent, places.recognize) == expected


def test_agent_places_only_when_about_the_caller() -> None:
    assert spans("our office in Chicago opens at nine", speaker="agent",
                 recognizer=places.recognize) == []
    assert spans("so you live in Chicago, right?", speaker="agent",
                 recognizer=places.recognize) == [("LOCATION", "Chicago")]


NAMES = [
    (None, "my name is Sean O'Connor", [("PERSON", "Sean O'Connor")]),
    (None, "my name is Pieter van der Berg", [("PERSON", "Pieter van der Berg")]),
    (None, "my name is maria de la cruz", [("PERSON", "maria de la cruz")]),
    (None, "it's Anne-Marie Smith-Jones", [("PERSON", "Anne-Marie Smith-Jones")]),
    (None, "thanks mr mcallister", [("PERSON", "mcallister")]),
    (None, "this is john smith calling about my bill", [("PERSON", "john smith")]),
    (None, "yeah so jennifer said she would call back", [("PERSON", "jennifer")]),
    (None, "my wife linda handles the account", [("PERSON", "linda")]),
    (None, "my name is Ní Bhriain", [("PERSON", "Ní Bhriain")]),
    (None, "I will pay the bill in June", []),
    (None, "the grace period is thirty days", []),
    (None, "I'd like the rose gold one", []),
]


@pytest.mark.parametrize(("agent", "text", "expected"), NAMES)
def test_names_as_people_say_them(agent: str | None, text: str, expected: Spans) -> None:
    assert spans(text, agent, names.recognize) == expected


@pytest.mark.parametrize(("agent", "text", "expected"), [
    (None, "it's D'Angelo, d apostrophe a n g e l o",
     [("SPELLED_TEXT", "D'Angelo, d apostrophe a n g e l o")]),
    ("Can you spell your last name?", "o'connor, capital o apostrophe c o n n o r",
     [("PERSON", "o'connor, capital o apostrophe c o n n o r")]),
])
def test_names_spelled_after_being_said(agent: str | None, text: str, expected: Spans) -> None:
    assert [(t, v) for t, v in spans(text, agent) if t in ("PERSON", "SPELLED_TEXT")] == expected


@pytest.mark.parametrize(("agent", "text", "expected"), [
    ("What's your date of birth?", "march third nineteen eighty four",
     [("DATE_OF_BIRTH", "march third nineteen eighty four")]),
    (None, "my date of birth, um, let me think, is the fifth of may nineteen ninety",
     [("DATE_OF_BIRTH", "fifth of may nineteen ninety")]),
    ("And your birthday?", "oh four twelve seventy nine",
     [("DATE_OF_BIRTH", "oh four twelve seventy nine")]),
    (None, "the appointment is at three thirty on march third", []),
    (None, "it took two days and about ten minutes", []),
])
def test_personal_dates_only(agent: str | None, text: str, expected: Spans) -> None:
    assert spans(text, agent) == expected
