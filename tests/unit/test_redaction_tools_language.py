"""Tool-call JSON redaction (key as context, valid JSON out), the call's language, one pseudonym
per person across a session, and the policy's per-entity choices."""

from __future__ import annotations

import json

import pytest

from services.redaction import assemble
from services.redaction.engine import RedactionEngine, shared_engine
from services.redaction.language import detect
from services.redaction.policy import Pseudonyms, RedactionPolicy
from services.redaction.repository import SourceToolCall, SourceTurn
from services.redaction.results import Utterance
from services.redaction.tools import entity_of_key, parse, slots


@pytest.fixture(scope="module")
def engine() -> RedactionEngine:
    from services.platform.settings import load_settings

    return shared_engine(load_settings().spacy_model)


@pytest.mark.parametrize(("key", "entity"), [
    ("client_phone", "PHONE_NUMBER"), ("clientPhone", "PHONE_NUMBER"), ("email", "EMAIL_ADDRESS"),
    ("customer_name", "PERSON"), ("firstName", "PERSON"), ("dob", "DATE_OF_BIRTH"),
    ("date_of_birth", "DATE_OF_BIRTH"), ("home_address", "STREET_ADDRESS"), ("city", "LOCATION"),
    ("passport_no", "US_PASSPORT"), ("iban", "IBAN_CODE"), ("account_number", "US_BANK_NUMBER"),
    ("tool_name", None), ("product_name", None), ("account_type", None), ("phone_verified", None),
    ("summary", None), ("amount", None), ("country", None), ("customer_id", "ID_NUMBER"),
    ("memberNumber", "ID_NUMBER"), ("order_id", None),
])
def test_keys_say_what_a_value_holds(key: str, entity: str | None) -> None:
    assert entity_of_key(key) == entity


def test_slots_walk_nested_json_and_skip_amounts() -> None:
    doc, ok = parse('{"client": {"name": "Ann Lee", "phones": ["4155550101", 4155550102]},'
                    ' "amount": 55.5, "notes": "call back", "vip": true}')
    assert ok
    got = [(s.path, s.entity) for s in slots(doc, ok)]
    assert got == [(("client", "name"), "PERSON"), (("client", "phones", 0), "PHONE_NUMBER"),
                   (("client", "phones", 1), "PHONE_NUMBER"), (("notes",), None)]
    assert slots(*parse("not json, call 415 555 0101")) != []


def session_calls(args: str, result: str | None = None) -> list[SourceToolCall]:
    return [SourceToolCall("c1", 0, "save_call_summary", args, result, False, 5000, 6000, None)]


def test_tool_call_redaction_keeps_valid_json_and_one_pseudonym(engine: RedactionEngine) -> None:
    turns = [SourceTurn("t0", 0, "agent", "completed", 0, 900, "Who am I speaking with?", None),
             SourceTurn("t1", 1, "caller", "completed", 1000, 1900,
                        "It's Marta Kowalczyk.", None)]
    args = json.dumps({"client_name": "Marta Kowalczyk", "client_phone": 4155550187,
                       "email": "marta.k@example.com", "priority": 2,
                       "summary": "Marta wants a callback at 415 555 0187, order 77"})
    calls = session_calls(args, '{"ok": true, "to": "marta.k@example.com"}')
    b = assemble.batch(turns, calls)
    done = engine.redact(b.items, RedactionPolicy(), Pseudonyms(b"k" * 32), session=True,
                         whole=b.whole)
    [row] = assemble.call_rows(calls, b, done)
    out = json.loads(row["arguments"])
    assert out["client_name"] == "<PERSON_1>" and out["client_phone"] == "<PHONE_NUMBER>"
    assert out["email"] == "<EMAIL_ADDRESS>" and out["priority"] == 2
    assert "Marta" not in out["summary"] and "0187" not in out["summary"]
    assert "order 77" in out["summary"]
    assert json.loads(row["result"]) == {"ok": True, "to": "<EMAIL_ADDRESS>"}
    assert done[b.turn_at[1]].text == "It's <PERSON_1>."
    blob = json.dumps(row)
    assert "Kowalczyk" not in blob and "example.com" not in blob


def test_a_name_repeated_later_keeps_its_pseudonym(engine: RedactionEngine) -> None:
    items = [Utterance("What's your name?", speaker="agent"),
             Utterance("my name is maria gonzalez", "What's your name?", "caller"),
             Utterance("thanks maria, and the zip code?", speaker="agent"),
             Utterance("gonzalez is spelled g o n z a l e z", None, "caller")]
    done = engine.redact(items, pseudonyms=Pseudonyms(b"k" * 32), session=True)
    assert [d.text for d in done] == [
        "What's your name?", "my name is <PERSON_1>", "thanks <PERSON_1>, and the zip code?",
        "<PERSON_1> is spelled <PERSON_1>"]


def test_policy_chooses_per_entity_and_location_granularity(engine: RedactionEngine) -> None:
    text = [Utterance("I moved from Canada to Toronto, I'm Polish", speaker="caller")]
    default = engine.redact(text)[0].text
    assert default == "I moved from Canada to <LOCATION>, I'm <NRP>"
    every = engine.redact(text, RedactionPolicy(location_granularity="all"))[0].text
    assert every == "I moved from <LOCATION> to <LOCATION>, I'm <NRP>"
    keep = RedactionPolicy(operators={"NRP": "keep"}, location_granularity="none")
    assert engine.redact(text, keep)[0].text == "I moved from Canada to Toronto, I'm Polish"


ENGLISH = [
    "yeah hi um i'm calling about my card it got declined yesterday at the store",
    "ok so the number is four one five five five five oh one nine two thanks",
    "sure it's jennifer and i live in denver colorado",
    "can you tell me when my package will arrive i ordered it last week",
    "i need to reset my password i can't log in to the app",
    "my flight was cancelled and i want a refund please",
]
OTHER = [
    ("es", "hola buenos días quiero cambiar la dirección de mi cuenta por favor gracias"),
    ("fr", "bonjour je voudrais parler à quelqu'un de mon compte s'il vous plaît merci"),
    ("de", "guten tag ich möchte meine adresse ändern und meine karte sperren bitte"),
    ("pt", "olá eu gostaria de falar sobre a minha fatura do mês passado obrigado"),
    ("it", "buongiorno vorrei cambiare il mio indirizzo e il numero di telefono grazie"),
    ("nl", "goedemiddag ik wil graag mijn adres wijzigen en mijn kaart blokkeren alstublieft"),
    ("pl", "dzień dobry chciałbym zmienić adres i zablokować moją kartę dziękuję bardzo"),
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_calls_are_english(text: str) -> None:
    assert detect([text]).language == "en"


@pytest.mark.parametrize(("lang", "text"), OTHER)
def test_other_languages_are_detected(lang: str, text: str) -> None:
    assert detect([text]).language == lang


def test_too_little_text_assumes_the_policy_language() -> None:
    assert detect(["ok", "yes"], default="en").method == "too-short"
