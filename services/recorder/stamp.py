"""A session's envelopes, built and encoded once per frame without giving up a check.

``record()`` runs inside the gateway's realtime loop for every 20 ms frame, so validating a
pydantic model and serializing it again per frame was most of its CPU (issue 13). A frame takes
the fast path only when everything ``Envelope`` checks is already known good:

* the session's constants (tenant, session id, the wall clock's start): once one envelope of
  the session passed a full validation;
* the frame's ``type``: one that passed a full validation in this session (a bounded set);
* provider and direction are the enums; ``seq`` and ``mono_ns`` plain ints within BIGINT;
* the payload is a plain dict with string keys that :func:`storable_problem` accepts (the same
  function the model's validator runs);
* the wall clock is UTC, so every ``recorded_at`` is representable.

Anything else goes through ``Envelope(...)`` and gets the model's own error. The JSON is built
once: the fixed fields (pattern-checked or enum values: nothing to escape) around pydantic-core's
``to_json`` of the payload and of ``recorded_at``, byte for byte what ``model_dump_json`` gives
(a property test holds it). Errors: pydantic's ``ValidationError`` for a refused field,
:class:`EnvelopeError` for a frame too large or not serializable as JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic_core import PydanticSerializationError, to_json

from schemas.envelope import (
    INT64_MAX,
    MAX_ENVELOPE_BYTES,
    SCHEMA_VERSION,
    Direction,
    Envelope,
    EnvelopeError,
    Provider,
    encode_envelope,
    storable_problem,
)

# Distinct frame types a session remembers as validated; past it, new types take the full path.
MAX_KNOWN_TYPES: Final = 1024
_STR: Final = {str}  # the payload's key types must be a subset (strict ``dict[str, Any]``)
_FIELDS: Final = frozenset(Envelope.model_fields)


def _trusted(values: dict[str, Any]) -> Envelope:
    """An envelope of values already checked: what ``Envelope.model_construct`` does for a model
    without aliases, defaults left or private attributes, at a quarter of its cost."""
    env = Envelope.__new__(Envelope)
    object.__setattr__(env, "__dict__", values)
    object.__setattr__(env, "__pydantic_fields_set__", set(_FIELDS))
    object.__setattr__(env, "__pydantic_extra__", None)
    object.__setattr__(env, "__pydantic_private__", None)
    return env


class Stamper:
    """Builds and encodes one session's envelopes (module docstring)."""

    def __init__(self, tenant_id: str, session_id: str, wall0: datetime) -> None:
        self.tenant_id = tenant_id
        self.session_id = session_id
        self.wall0 = wall0
        self._utc = wall0.tzinfo is UTC
        self._checked = False  # a full validation passed: tenant, session and clock are good
        self._types: set[str] = set()
        self._tail = ""  # the JSON between event_id and seq, once the ids are validated

    def stamp(self, event_id: str, seq: int, provider: Provider, direction: Direction,
              type_: str, mono_ns: int, payload: dict[str, Any]) -> tuple[Envelope, bytes]:
        """``event_id`` is the recorder's own UUIDv7: the model's pattern holds by construction."""
        recorded_at = self.wall0 + timedelta(0, 0, mono_ns // 1000)
        if (self._checked and type_ in self._types and self._utc
                and type(provider) is Provider and type(direction) is Direction
                and type(seq) is int and 0 <= seq <= INT64_MAX
                and type(mono_ns) is int and 0 <= mono_ns <= INT64_MAX
                and type(payload) is dict and {*map(type, payload)} <= _STR
                and storable_problem(payload) is None):
            payload = dict(payload)  # as validation would: the caller may reuse its dict
            env = _trusted({
                "schema_version": SCHEMA_VERSION, "event_id": event_id,
                "tenant_id": self.tenant_id, "session_id": self.session_id, "seq": seq,
                "provider": provider, "direction": direction, "type": type_,
                "recorded_at": recorded_at, "mono_ns": mono_ns, "payload": payload})
            try:
                body = to_json(payload)
            except PydanticSerializationError:
                raise EnvelopeError("payload is not serializable as JSON") from None
            data = b"".join((
                f'{{"schema_version":{SCHEMA_VERSION},"event_id":"{event_id}{self._tail}{seq}'
                f',"provider":"{provider!s}","direction":"{direction!s}","type":"{type_}"'
                ',"recorded_at":'.encode(), to_json(recorded_at),
                f',"mono_ns":{mono_ns},"payload":'.encode(), body, b"}"))
            if len(data) > MAX_ENVELOPE_BYTES:
                raise EnvelopeError(
                    f"envelope is {len(data)} bytes; the limit is {MAX_ENVELOPE_BYTES}")
            return env, data
        env = Envelope(event_id=event_id, tenant_id=self.tenant_id, session_id=self.session_id,
                       seq=seq, provider=provider, direction=direction, type=type_,
                       recorded_at=recorded_at, mono_ns=mono_ns, payload=payload)
        try:
            data = encode_envelope(env)
        except PydanticSerializationError:
            raise EnvelopeError("payload is not serializable as JSON") from None
        if not self._checked:
            self._checked = True
            self._tail = f'","tenant_id":"{env.tenant_id}","session_id":"{env.session_id}","seq":'
        if len(self._types) < MAX_KNOWN_TYPES:
            self._types.add(env.type)
        return env, data
