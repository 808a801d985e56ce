"""Limits where input enters (issue 12): import reads bounded lines, the audio horizon follows
the session's plausible timeline, the email pattern still finds what it found, subjects must
name the envelope, dead letters name their tenant."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

import pytest
import uuid_utils

from schemas.envelope import Direction, Envelope, Provider, subject_for
from services.audio.render import Event, SessionRenderer
from services.platform.deadletter import ids_from_subject
from services.platform.intake import subject_mismatch
from services.providers.importer import bounded_lines
from services.redaction.recognizers import View, email


def test_import_lines_are_bounded_and_numbered() -> None:
    data = b'{"a": 1}\n' + b"x" * 5000 + b"\n\xff\xfe\n" + b'{"b": 2}'
    got = list(bounded_lines(io.BytesIO(data), cap=100))
    assert [n for n, _ in got] == [1, 2, 3, 4]
    assert got[0][1] == '{"a": 1}\n' and got[1][1] is None and got[3][1] == '{"b": 2}'
    assert got[2][1] is not None and "\ufffd" in got[2][1]  # bad UTF-8 replaced, not raised


def _audio(seq: int, mono_ns: int, chunk: bytes) -> tuple[Event, list[bytes]]:
    payload = {"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode()}
    return Event(seq, mono_ns, Provider.OPENAI_REALTIME, Direction.CLIENT,
                 "input_audio_buffer.append", payload), [chunk]


def test_a_frame_a_day_ahead_is_left_off_the_recording_and_reported() -> None:
    chunk = b"\x01\x00" * 2400  # 100 ms at 24 kHz
    r = SessionRenderer(16000)
    heard = 0
    for i in range(20):
        heard += len(r.feed(*_audio(i, i * 100_000_000, chunk)).heard)
    heard += len(r.feed(*_audio(20, 86_400 * 10**9, chunk)).heard)
    heard += len(r.finish().heard)
    assert heard <= 16000 * 4 * 3  # ~2 s of stereo PCM16, not a day (~11 GB)
    assert any(g["reason"] == "implausible_timestamp:seq 20" for g in r.gaps())


def test_leading_punctuation_does_not_hide_an_address() -> None:
    for text in ("write to ..john.smith@example.com today", "it is -jo@ex.io",
                 "mail j.doe@mail.example.org"):
        found = email.recognize(View.of(text))
        assert found, text


def _env(**kw: object) -> Envelope:
    fields: dict[str, object] = {
        "event_id": str(uuid_utils.uuid7()), "tenant_id": "acme", "session_id": "call-1",
        "seq": 0, "provider": Provider.OPENAI_REALTIME, "direction": Direction.SERVER,
        "type": "response.done", "recorded_at": datetime.now(UTC), "mono_ns": 0, "payload": {}}
    fields.update(kw)
    return Envelope(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("subject,reason", [
    ("voice.acme.call-1.event", None),
    ("voice.other.call-1.event", "subject_mismatch: tenant"),
    ("voice.acme.call-2.audio", "subject_mismatch: session, kind"),
    ("voice.acme.call-1", "subject_mismatch: not <prefix>.<tenant>.<session>.<kind>"),
])
def test_the_subject_must_name_the_envelope(subject: str, reason: str | None) -> None:
    env = _env()
    assert subject_for(env) == "voice.acme.call-1.event"
    assert subject_mismatch(subject, env) == reason


def test_dead_letter_ids_come_only_from_valid_subjects() -> None:
    assert ids_from_subject("voice.acme.call-1.event") == ("acme", "call-1")
    assert ids_from_subject("voice.ACME.call-1.event") == (None, None)
    assert ids_from_subject("voice.acme.x';DROP.event") == ("acme", None)
    assert ids_from_subject("voice.acme") == (None, None)
