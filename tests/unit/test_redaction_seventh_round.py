"""Issue 19, seventh round: general mechanisms, table-driven. Every case is written for these
tests (never taken from the blind set or the tuning sets): streets whose number comes after the
name, as most of Europe and Latin America write them; an address's tail over other countries'
postcodes, region codes, particles and hyphens inside a town's name; an intersection's lead-in
and second street; four- and six-digit postcodes after a postcode cue; names that go on over a
middle initial; names said as someone's ("jerry's daughter"); names said together with a found one
("kowalczyk and nowak"); timestamps are no identifiers; and the ordinary
speech that must stay."""

from __future__ import annotations

import time

import pytest

from services.redaction.merge import merge
from services.redaction.recognizers import (
    Finding,
    View,
    address,
    ids,
    numbered_streets,
    numbers,
    possessive,
)
from services.redaction.spans import Grower
from tests.unit.redaction_support import Spans, assert_linear, spans


@pytest.mark.parametrize(("text", "expected"), [
    # a building number, the street's name, its number
    ("send it to 5120 Brennerweg 18 please", [("STREET_ADDRESS", "5120 Brennerweg 18")]),
    ("it's 77 ulica kwiatowa 9 apt 3 in krakow",
     [("STREET_ADDRESS", "77 ulica kwiatowa 9 apt 3")]),
    ("we're at 48 hauptgasse twelve suite 4", [("STREET_ADDRESS", "48 hauptgasse twelve suite 4")]),
    # the number after the name, after a place cue
    ("the shop is on Kärntner Strasse 31", [("STREET_ADDRESS", "Kärntner Strasse 31")]),
    ("my flat is at rua das gaivotas 212", [("STREET_ADDRESS", "rua das gaivotas 212")]),
    ("he lives on the far end of Vesterbrogade 64",
     [("STREET_ADDRESS", "Vesterbrogade 64")]),
    # a street type that stands first ("via", "rue") inside the name; "and", "is", "address"
    ("it goes to 12 via montebello 4 suite 2", [("STREET_ADDRESS", "12 via montebello 4 suite 2")]),
    ("my address is Brennerweg 18", [("STREET_ADDRESS", "Brennerweg 18")]),
    ("joan and Vesterbrogade 64", [("STREET_ADDRESS", "Vesterbrogade 64")]),
    # a quantity or a common word before a number is no street
    ("somewhere between 10 and 20", []),
    ("my answer is yes 100", []),
    ("i waited on hold 45 minutes", []),
    ("it's on page 23 of the manual", []),
    ("the gate is at terminal 2", []),
    ("i bought 2 running shoes size 10", []),
    ("we've been with them 12 years", []),
])
def test_numbered_streets(text: str, expected: Spans) -> None:
    assert spans(text, numbered_streets.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a postcode of four digits ends the tail; a region's code in capitals goes with it
    ("ship to 14 Kirkegata 3, Apt. 2, Bergen, HO, 5003",
     [("STREET_ADDRESS", "14 Kirkegata 3, Apt. 2, Bergen, HO, 5003")]),
    # particles and hyphens inside the town's name
    ("it's 9 calle luna 4 suite 8 villanueva de la serena",
     [("STREET_ADDRESS", "9 calle luna 4 suite 8 villanueva de la serena")]),
    ("12 Lindenweg 7 Apt. 1 Garmisch-Partenkirchen",
     [("STREET_ADDRESS", "12 Lindenweg 7 Apt. 1 Garmisch-Partenkirchen")]),
    # the sentence goes on after the address: it stays
    ("it's 12 Lindenweg 7 Apt. 1 Passau and thanks a lot",
     [("STREET_ADDRESS", "12 Lindenweg 7 Apt. 1 Passau")]),
])
def test_address_tails(text: str, expected: Spans) -> None:
    assert spans(text, address.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("meet me at the corner of Bredgade 40 and Olsen Walk",
     [("STREET_ADDRESS", "the corner of Bredgade 40 and Olsen Walk")]),
    ("the corner of 12 Lindenweg 7 and then we'll see",
     [("STREET_ADDRESS", "the corner of 12 Lindenweg 7")]),
])
def test_corners(text: str, expected: Spans) -> None:
    assert spans(text, address.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("my postcode is 8021", [("ZIP_CODE", "8021")]),
    ("zip four four one two", [("ZIP_CODE", "four four one two")]),
    ("the postal code there is 560034", [("ZIP_CODE", "560034")]),
    ("i need four tickets for 8021", []),
])
def test_short_postcodes(text: str, expected: Spans) -> None:
    assert [s for s in spans(text, numbers.recognize) if s[0] == "ZIP_CODE"] == expected


@pytest.mark.parametrize(("text", "found", "grown"), [
    ("this is Dana R Whitfield", "Dana", "Dana R Whitfield"),
    ("this is Dana R. Whitfield", "Dana", "Dana R. Whitfield"),
    ("it's under okonkwo t adebayo", "adebayo", "okonkwo t adebayo"),
    ("it's under katarzyna b nowicka", "katarzyna", "katarzyna b nowicka"),
    # "a", "i", "o" in lower case are words, not initials
    ("i gave maria a ticket", "maria", "maria"),
    ("ask tomasz i think", "tomasz", "tomasz"),
    # an initial before an everyday word is not a name's middle
    ("call Dana B Friday", "Dana", "Dana"),
])
def test_middle_initials(text: str, found: str, grown: str) -> None:
    view = View.of(text)
    start = text.index(found)
    s, e = Grower(view).person(start, start + len(found))
    assert text[s:e] == grown


@pytest.mark.parametrize(("text", "expected"), [
    ("no i'm gretchen's husband", [("PERSON", "gretchen")]),
    ("can you send it to okonkwo's address", [("PERSON", "okonkwo")]),
    ("it's on rahul's card", [("PERSON", "rahul")]),
    # an everyday word, a relative, a group or a place is nobody's name
    ("it's the pharmacy's number", []),
    ("it's my mom's phone", []),
    ("that's the landlord's account", []),
    ("that's texas's biggest house", []),
    ("jerry's here", []),  # no family word or record after it
])
def test_possessive_names(text: str, expected: Spans) -> None:
    assert spans(text, possessive.recognize) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a written date with a time of day is a moment: no phone, NHS or account number in it
    ("the outage started 2021-11-21 02:50:40.706746 and lasted an hour", []),
    ("logged at 2019-03-08T14:05 by the system", []),
    # a date alone may be a birth date; a real number next to a timestamp is still found
    ("my date of birth is 1985-03-12", [("DATE_OF_BIRTH", "1985-03-12")]),
    ("at 2019-03-08 14:05 i called from 415 555 0134", [("PHONE_NUMBER", "415 555 0134")]),
])
def test_timestamps(text: str, expected: Spans) -> None:
    view = View.of(text)
    found = merge([*numbers.recognize(view), *ids.recognize(view)], 0.35)
    assert [(f.entity_type, text[f.start:f.end]) for f in found] == expected


@pytest.mark.parametrize(("text", "found", "expected"), [
    ("ask kowalczyk and nowak about it", "kowalczyk", ["kowalczyk", "nowak"]),
    ("Okafor, Lindqvist and me", "Okafor", ["Okafor", "Lindqvist"]),
    # an everyday word after "and" is no second name
    ("ask kowalczyk and then call back", "kowalczyk", ["kowalczyk"]),
    ("it's okafor and family", "okafor", ["okafor"]),
])
def test_names_said_together(text: str, found: str, expected: list[str]) -> None:
    view = View.of(text)
    start = text.index(found)
    out = Grower(view).bridge([Finding("PERSON", start, start + len(found), 0.8, "t")])
    assert sorted({text[f.start:f.end] for f in out}) == sorted(expected)


@pytest.mark.parametrize("unit", [
    "5120 brennerweg 18 apt 4 passau 8021 and ",
    "on kirchgasse 7 ",
    "12 34 56 78 ",
    "dana r whitfield ",
    "gretchen's husband ",
    "2021-11-21 02:50:40.706746 ",
])
def test_new_scans_linear(unit: str) -> None:
    assert_linear(unit, [numbered_streets.recognize, address.recognize, possessive.recognize,
                         numbers.recognize])
    large = unit * 4000
    view = View.of(large)
    grower = Grower(view)
    t0 = time.process_time()
    for t in view.tokens[:2000]:
        grower.person(t.start, t.end)
    grower.bridge([Finding("PERSON", t.start, t.end, 0.8, "t") for t in view.tokens[:2000]])
    assert time.process_time() - t0 < 5
