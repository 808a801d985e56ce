"""Request bodies of the holds and erasure routes: exactly one target, rules said in the schema;
the actor a token's changes are recorded under passes the retention capability's actor rule."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.api.routes.erasure import NewErasure
from services.api.routes.holds import PlaceHold, ReleaseHold, actor
from services.api.tokens import Principal, Role
from services.retention.policy import ACTOR

HOLD = {"matter": "Doe v. Acme 2026/114", "reason": "litigation notice"}


@pytest.mark.parametrize("target", [{"session_id": "call-1"}, {"all": True},
                                    {"subject": {"kind": "email", "value": "a@b.example"}}])
def test_a_hold_has_exactly_one_target(target: dict[str, Any]) -> None:
    PlaceHold(**target, **HOLD)
    with pytest.raises(ValidationError):
        PlaceHold(**HOLD)
    other = {"session_id": "call-2"} if "session_id" not in target else {"all": True}
    with pytest.raises(ValidationError):
        PlaceHold(**target, **other, **HOLD)


@pytest.mark.parametrize("bad", [
    {"session_id": "_journal"}, {"all": False}, {"subject": {"kind": "ssn", "value": "1"}},
    {"session_id": "call-1", "matter": "-starts-with-dash"},
    {"session_id": "call-1", "reason": "two\nlines"}, {"session_id": "call-1", "reason": "  "},
    {"session_id": "call-1", "extra": 1}])
def test_bad_holds_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PlaceHold(**{**HOLD, **bad})
    with pytest.raises(ValidationError):
        ReleaseHold(reason="")


@pytest.mark.parametrize("body", [{"email": "a@b.example"}, {"phone_e164": "+14155550123"},
                                  {"customer_id": "C-77", "reference": "DSR-1"},
                                  {"session_id": "call-1"}])
def test_an_erasure_request_names_one_subject_or_session(body: dict[str, Any]) -> None:
    NewErasure(**body)
    with pytest.raises(ValidationError):
        NewErasure(**body, **({"email": "c@d.example"} if "email" not in body
                              else {"session_id": "call-2"}))
    with pytest.raises(ValidationError):
        NewErasure(reference="DSR-1")
    with pytest.raises(ValidationError):
        NewErasure(**{**body, "reference": "line\nbreak"})


@pytest.mark.parametrize("name", ["test reviewer", "Ann R.", "ann@acme", "a" * 64])
def test_token_names_are_valid_actors(name: str) -> None:
    # tokens.NAME_RE: 1-64 of letters, digits, space . _ @ + - (no leading space)
    who = Principal("id", "acme", Role.REVIEWER, name)
    assert ACTOR.match(actor(who))


@pytest.mark.parametrize("bad", ["", " lead", "trail ", "tab\there", "x" * 129, "semi;colon"])
def test_actor_rule_still_refuses(bad: str) -> None:
    assert ACTOR.match(bad) is None
