"""Speech-aware recognizers, table-driven: (agent turn, caller text, expected redacted spans)."""

from __future__ import annotations

import pytest

from services.redaction.context import from_agent_turn
from services.redaction.merge import merge
from services.redaction.recognizers import (
    View,
    address,
    dates,
    email,
    names,
    numbers,
    recognize_all,
    spelled,
)


def spans(text: str, agent: str | None = None, recognizer: object = None) -> list[tuple[str, str]]:
    view = View.of(text, from_agent_turn(agent))
    found = recognizer(view) if callable(recognizer) else recognize_all(view)
    return [(f.entity_type, text[f.start:f.end]) for f in merge(found, 0.35)]


NUMBERS = [
    (None, "my number is four one five, five five five, oh one three two",
     [("PHONE_NUMBER", "four one five, five five five, oh one three two")]),
    (None, "call 415-555-0143 after lunch", [("PHONE_NUMBER", "415-555-0143")]),
    (None, "it's plus one three one two eight six seven five three oh nine",
     [("PHONE_NUMBER", "plus one three one two eight six seven five three oh nine")]),
    (None, "reach me on +44 20 7946 0958", [("PHONE_NUMBER", "+44 20 7946 0958")]),
    (None, "card 4111 1111 1111 1111", [("CREDIT_CARD", "4111 1111 1111 1111")]),
    ("What's the card number?", "four two four two, four two four two, four two four two, "
     "four two four two", [("CREDIT_CARD", "four two four two, four two four two, four two four "
                           "two, four two four two")]),
    ("And the security code on the back?", "seven three seven", [("CVV", "seven three seven")]),
    (None, "seven three seven", []),
    ("When does the card expire?", "oh five, twenty six", [("CARD_EXPIRY", "oh five, twenty six")]),
    (None, "my social is 123-45-6789", [("US_SSN", "123-45-6789")]),
    (None, "last four of my social are one two three four", [("US_SSN", "one two three four")]),
    ("Can you verify the last four of your social?", "six six one two",
     [("US_SSN", "six six one two")]),
    ("What's the routing number?", "oh two one oh oh oh oh two one",
     [("ABA_ROUTING_NUMBER", "oh two one oh oh oh oh two one")]),
    (None, "my account number is eight eight two four one nine nine three",
     [("US_BANK_NUMBER", "eight eight two four one nine nine three")]),
    ("And your zip code?", "nine four one oh five", [("ZIP_CODE", "nine four one oh five")]),
    (None, "it's in Austin, TX 78704", [("ZIP_CODE", "78704")]),
    ("What's your date of birth?", "oh three, one four, eighty five",
     [("DATE_OF_BIRTH", "oh three, one four, eighty five")]),
]
NOT_PII = [
    "It takes two to three business days and costs $55.99.",
    "We have 1,200,000 customers in the region.",
    "Please update to version 2.4.1, error 0x80070005 is fixed there.",
    "The meeting moved to Thursday at 4 pm, call back at 10 30.",
    "Press one for billing, press two for support.",
    "The upgrade costs fifteen hundred dollars.",
    "I have been on hold for twenty five minutes.",
    "Is the store open on Sunday?",
    "May I help you with anything else?",
]


@pytest.mark.parametrize(("agent", "text", "expected"), NUMBERS)
def test_numbers(agent: str | None, text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text, agent, numbers.recognize) == expected


@pytest.mark.parametrize("text", NOT_PII)
def test_no_over_redaction(text: str) -> None:
    assert spans(text) == []


@pytest.mark.parametrize(("agent", "text", "expected"), [
    ("What's your date of birth?", "March fourteenth, nineteen eighty five",
     [("DATE_OF_BIRTH", "March fourteenth, nineteen eighty five")]),
    (None, "I was born on July 4th, 1979", [("DATE_OF_BIRTH", "July 4th, 1979")]),
    ("And your birthday?", "the twenty second of September, nineteen ninety",
     [("DATE_OF_BIRTH", "twenty second of September, nineteen ninety")]),
    (None, "your appointment is on March fifth", []),
    ("When does it expire?", "December twenty twenty seven",
     [("CARD_EXPIRY", "December twenty twenty seven")]),
])
def test_dates(agent: str | None, text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text, agent, dates.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("it's john dot smith at gmail dot com", "john dot smith at gmail dot com"),
    ("mail maria.gonzalez@outlook.com today", "maria.gonzalez@outlook.com"),
    ("my email is j underscore doe five five at yahoo dot com",
     "j underscore doe five five at yahoo dot com"),
    ("send it to mike dash ross at company dot co dot uk", "mike dash ross at company dot co dot uk"),
    ("the receipt went to b o b at example dot org", "b o b at example dot org"),
    ("send the invoice to rachel at green leaf dot com", "rachel at green leaf dot com"),
    ("it's jessica hart eighty eight at gmail dot com", "jessica hart eighty eight at gmail dot com"),
])
def test_email(text: str, expected: str) -> None:
    assert spans(text, None, email.recognize) == [("EMAIL_ADDRESS", expected)]


def test_email_needs_a_domain() -> None:
    assert spans("I'll be at home at noon", None, email.recognize) == []


@pytest.mark.parametrize(("agent", "text", "expected"), [
    ("Can you spell your last name?", "Sure, K O W A L S K I.", [("PERSON", "K O W A L S K I")]),
    (None, "it's spelled S M I T H, Smith", [("PERSON", "S M I T H, Smith")]),
    (None, "R-O-D-R-I-G-U-E-Z", [("SPELLED_TEXT", "R-O-D-R-I-G-U-E-Z")]),
    ("How do you spell that?", "M, C, double L, E, R", [("PERSON", "M, C, double L, E, R")]),
    (None, "W as in William, O as in Oscar", [("SPELLED_TEXT", "W as in William, O as in Oscar")]),
    ("Can you spell your first name?", "A N", [("PERSON", "A N")]),
    (None, "I have a B and a C", []),
])
def test_spelled(agent: str | None, text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text, agent, spelled.recognize) == expected


@pytest.mark.parametrize(("agent", "text", "expected"), [
    (None, "It's 1234 Maple Avenue, apartment 5B.", [("STREET_ADDRESS",
                                                     "1234 Maple Avenue, apartment 5B")]),
    (None, "I live at twelve thirty four north Elm street",
     [("STREET_ADDRESS", "twelve thirty four north Elm street")]),
    (None, "one hundred and five Cherry Hill Drive",
     [("STREET_ADDRESS", "one hundred and five Cherry Hill Drive")]),
    ("What's the address?", "it's forty two Elm, Springfield",
     [("STREET_ADDRESS", "forty two Elm")]),
    (None, "take the second street on the left", []),
])
def test_address(agent: str | None, text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text, agent, address.recognize) == expected


@pytest.mark.parametrize(("agent", "text", "expected"), [
    (None, "Hi, my name is maria gonzalez and I'm calling", [("PERSON", "maria gonzalez")]),
    (None, "This is Robert calling from Acme", [("PERSON", "Robert")]),
    (None, "Thank you, Mr. Kowalski.", [("PERSON", "Kowalski")]),
    ("Can I have your full name please?", "sure, james wright", [("PERSON", "james wright")]),
    (None, "this is great, thanks", []),
    (None, "I'm calling about my bill", []),
])
def test_names(agent: str | None, text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text, agent, names.recognize) == expected


@pytest.mark.parametrize(("agent", "topics"), [
    ("What's your card number?", {"card"}),
    ("Can you spell your last name?", {"name", "spell"}),
    ("Your card was declined.", set()),
    (None, set()),
])
def test_agent_context(agent: str | None, topics: set[str]) -> None:
    assert {str(t) for t in from_agent_turn(agent).asked} == topics
