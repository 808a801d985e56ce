"""The ledger's read port, pure part: sealed entries decode back to the envelopes that were
sealed, in position order, with their audio bytes or only their lengths; an entry that does not
decode comes back with a reason instead of content."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

from schemas.envelope import Envelope
from services.ledger.reader import LedgerReader, first_by_seq, unreadable_reason
from tests.unit.providers_support import Session
from tests.unit.sealed_support import read_back, seal

NOT_AUTHENTIC = ("unreadable: not authentic (its payload or audio part fails the AES-GCM "
                 "check: altered, or sealed under another key)")


def session_with_audio() -> list[Envelope]:
    s = Session("openai-realtime")
    s.add("client", {"type": "session.update", "session": {}}, 0)
    s.add("client", {"type": "input_audio_buffer.append",
                     "audio": base64.b64encode(b"\x01\x02" * 240).decode()}, 10)
    s.add("server", {"type": "response.output_audio.delta", "response_id": "r", "item_id": "i",
                     "delta": base64.b64encode(b"\x07" * 96).decode()}, 20)
    s.add("server", {"type": "response.done", "response": {}}, 30)
    return s.envs


class Keys:
    """Only what the reader uses of a key provider: the session keys as sealed."""

    def __init__(self, deks: dict[str, bytes]) -> None:
        self.deks = deks

    def unwrap_dek(self, tenant: str, wrapped: bytes, session: str) -> bytes:
        return self.deks[session]


def test_bytes_give_back_the_frames_exactly_and_in_position_order() -> None:
    envs = session_with_audio()
    read = read_back(envs, "bytes")
    assert [e.position for e in read] == [0, 1, 2, 3]
    assert [e.envelope.payload for e in read] == [e.payload for e in envs]
    assert [e.envelope.seq for e in read] == [e.seq for e in envs]
    assert read[1].audio == (b"\x01\x02" * 240,) and read[1].audio_lengths == (480,)
    assert read[2].audio == (b"\x07" * 96,) and read[0].audio == ()
    assert read[1].subject == f"voice.{envs[0].tenant_id}.{envs[0].session_id}.audio"
    assert [e.stream_seq for e in read] == [1, 2, 3, 4]


def test_lengths_read_no_audio_and_keep_every_length() -> None:
    envs = session_with_audio()
    read = read_back(envs, "lengths")
    assert all(e.audio is None for e in read)
    assert read[1].audio_lengths == (480,) and read[2].audio_lengths == (96,)
    assert base64.b64decode(read[1].envelope.payload["audio"]) == bytes(480)
    assert read[3].envelope.payload == envs[3].payload  # no audio: the frame as it was


def test_none_reads_audio_frames_unparsed_and_everything_else_whole() -> None:
    envs = session_with_audio()
    read = read_back(envs, "none")
    assert [e.envelope.payload for e in read] == [envs[0].payload, {}, {}, envs[3].payload]
    assert [e.envelope.kind for e in read] == [e.kind for e in envs]  # the catalog's counts
    assert read[1].audio is None and read[1].audio_lengths == ()
    assert read[1].subject == f"voice.{envs[0].tenant_id}.{envs[0].session_id}.audio"


def test_a_damaged_audio_frame_is_refused_without_being_parsed() -> None:
    envs = session_with_audio()
    reader, rows, _ = _reader(envs)
    bad = bytearray(rows[1].payload_ct)
    bad[-1] ^= 1
    rows[1] = SimpleNamespace(**{**vars(rows[1]), "payload_ct": bytes(bad)})
    out = reader._decode_all(envs[0].tenant_id, rows, {envs[0].session_id: b"w"}, "none")
    assert [e.reason for e in out] == [None, NOT_AUTHENTIC, None, None]


def test_envelopes_are_what_model_construct_and_validation_build() -> None:
    envs = session_with_audio()
    for sealed, read in zip(envs, read_back(envs, "bytes"), strict=True):
        env = read.envelope
        built = Envelope.model_construct(_fields_set=set(Envelope.model_fields), **dict(sealed))
        assert env == sealed == built and vars(env) == vars(built)
        assert env.model_fields_set == built.model_fields_set
        assert env.__pydantic_extra__ is None and env.__pydantic_private__ is None
        assert env.model_dump() == sealed.model_dump()
        assert Envelope.model_validate(env.model_dump()) == env


def _reader(envs: list[Envelope]) -> tuple[LedgerReader, list[Any], dict[str, bytes]]:
    rows, s3, deks = seal(envs)
    reader = LedgerReader(Keys(deks), s3, "b")  # type: ignore[arg-type]
    return reader, rows, deks


def test_an_entry_that_does_not_decrypt_comes_back_with_a_reason() -> None:
    envs = session_with_audio()
    reader, rows, _ = _reader(envs)
    bad = bytearray(rows[2].payload_ct)
    bad[-1] ^= 1
    rows[2] = SimpleNamespace(**{**vars(rows[2]), "payload_ct": bytes(bad)})
    tenant, session = envs[0].tenant_id, envs[0].session_id
    out = reader._decode_all(tenant, rows, {session: b"wrapped"}, "lengths")
    assert [e.reason for e in out] == [None, None, NOT_AUTHENTIC, None]
    assert out[2].envelope.payload == {} and out[2].position == 2


def test_audio_that_does_not_match_its_reference_comes_back_with_a_reason() -> None:
    envs = session_with_audio()
    reader, rows, _deks = _reader(envs)
    tenant, session = envs[0].tenant_id, envs[0].session_id
    s3 = reader.s3
    key, at, size = s3.parts[(session, "client")]  # the caller's part of the batch object
    damaged = bytearray(s3.objects[key])
    damaged[at + size // 2] ^= 0xFF
    s3.objects[key] = bytes(damaged)
    out = reader._decode_all(tenant, rows, {session: b"wrapped"}, "bytes")
    assert [e.reason for e in out] == [None, NOT_AUTHENTIC, None, None]  # AES-GCM
    # Lengths never read the segment: the same entry reads fine.
    assert all(e.reason is None for e in reader._decode_all(tenant, rows, {session: b"w"},
                                                             "lengths"))


def test_first_sealed_wins_per_seq() -> None:
    envs = session_with_audio()
    dup = envs[1].model_copy(update={"event_id": envs[2].event_id, "payload": {"x": 1}})
    assert first_by_seq([envs[0], envs[1], dup, envs[2]]) == [envs[0], envs[1], envs[2]]
    assert first_by_seq([envs[2], envs[0]]) == [envs[0], envs[2]]


def test_unreadable_reasons_are_in_the_ledgers_words() -> None:
    from cryptography.exceptions import InvalidTag

    from services.ledger.payloads import PayloadError

    assert unreadable_reason(InvalidTag()) == NOT_AUTHENTIC
    assert unreadable_reason(PayloadError("x")) == "unreadable: payload does not decompress"
    assert unreadable_reason(KeyError("k")) == "unreadable: malformed entry (KeyError)"
