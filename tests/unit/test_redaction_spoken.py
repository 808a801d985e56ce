"""Spoken numbers read as digits, with spans back to the words."""

from __future__ import annotations

import pytest

from services.redaction.spoken import aba_ok, luhn_ok, number_runs, tokenize


@pytest.mark.parametrize(("text", "expected"), [
    ("four one five", ["415"]),
    ("oh five", ["05"]),
    ("double five", ["55"]),
    ("triple seven", ["777"]),
    ("twenty twenty", ["2020"]),
    ("fifty five hundred", ["5500"]),
    ("nineteen eighty five", ["1985"]),
    ("two thousand and five", ["2005"]),
    ("one hundred and twenty three", ["123"]),
    ("four one five, five five five, oh one three two", ["4155550132"]),
    ("three oh three... four nine two... eighty eight seventy one", ["3034928871"]),
    ("415-555-0132", ["4155550132"]),
    ("1 (800) 555-1212", ["18005551212"]),
    ("five dash five five", ["555"]),
    ("oh, sure", []),
    ("error 0x80070005", []),
    ("at 3:45", ["3", "45"]),
    ("two kids and three dogs", ["2", "3"]),
])
def test_number_runs(text: str, expected: list[str]) -> None:
    assert [r.digits for r in number_runs(tokenize(text))] == expected


def test_span_map_points_at_the_words() -> None:
    text = "call four one five, double five five, twelve thirty four"
    (run,) = number_runs(tokenize(text))
    assert run.digits == "4155551234"
    assert text[run.start:run.end] == "four one five, double five five, twelve thirty four"
    s, e = run.span_of_digits(3, 4)  # the "55" of "double five"
    assert text[s:e] == "double five"


@pytest.mark.parametrize(("digits", "ok"), [
    ("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True)])
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


@pytest.mark.parametrize(("digits", "ok"), [
    ("021000021", True), ("011401533", True), ("021000022", False), ("12345", False)])
def test_aba(digits: str, ok: bool) -> None:
    assert aba_ok(digits) is ok
