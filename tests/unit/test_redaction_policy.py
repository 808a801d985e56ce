"""Policy hash, operators and per-session pseudonyms."""

from __future__ import annotations

import pytest

from services.redaction.policy import Pseudonyms, RedactionPolicy, replacement


def test_policy_hash_is_stable_and_changes_with_content() -> None:
    a = RedactionPolicy(operators={"PERSON": "pseudonym", "EMAIL_ADDRESS": "hash"})
    b = RedactionPolicy(operators={"EMAIL_ADDRESS": "hash", "PERSON": "pseudonym"})
    assert a.policy_hash == b.policy_hash
    assert a.policy_hash.startswith("sha256:") and len(a.policy_hash) == 7 + 64
    assert RedactionPolicy(version=5).policy_hash != RedactionPolicy().policy_hash
    assert RedactionPolicy(threshold=0.5).policy_hash != RedactionPolicy().policy_hash


def test_policy_is_frozen_and_strict() -> None:
    with pytest.raises(ValueError, match="extra"):
        RedactionPolicy(unknown=1)  # type: ignore[call-arg]


def test_pseudonyms_stay_the_same_within_a_session() -> None:
    p = Pseudonyms(b"k" * 32)
    assert p.label("PERSON", "Maria Gonzalez") == "<PERSON_1>"
    assert p.label("PERSON", "John") == "<PERSON_2>"
    assert p.label("PERSON", "maria  gonzalez") == "<PERSON_1>"
    assert p.label("PHONE_NUMBER", "415") == "<PHONE_NUMBER_1>"
    assert Pseudonyms(b"j" * 32).label("PERSON", "John") == "<PERSON_1>"


def test_pseudonyms_hold_no_values() -> None:
    p = Pseudonyms(b"k" * 32)
    p.label("PERSON", "Maria Gonzalez")
    assert "maria" not in repr(vars(p)).lower()


@pytest.mark.parametrize(("operator", "expected"), [
    ("placeholder", "<PHONE_NUMBER>"),
    ("pseudonym", "<PHONE_NUMBER_1>"),
    ("mask", "***-***-****"),
    ("keep", "415-555-0143"),
])
def test_operators(operator: str, expected: str) -> None:
    policy = RedactionPolicy(operators={"PHONE_NUMBER": operator})  # type: ignore[dict-item]
    assert replacement(policy, Pseudonyms(b"k" * 32), "PHONE_NUMBER", "415-555-0143") == expected


def test_hash_is_keyed() -> None:
    policy = RedactionPolicy(default_operator="hash")
    one = replacement(policy, Pseudonyms(b"a" * 32), "EMAIL_ADDRESS", "a@b.com")
    two = replacement(policy, Pseudonyms(b"b" * 32), "EMAIL_ADDRESS", "a@b.com")
    assert one.startswith("<EMAIL_ADDRESS:") and one != two
    assert one == replacement(policy, Pseudonyms(b"a" * 32), "EMAIL_ADDRESS", "A@B.com")
