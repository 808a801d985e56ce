"""A batch message at intake: members become items keyed (stream sequence, member); a bad
member is refused alone; bounds and headers refuse the whole message; the ordered consumer's
progress covers a message split across two commits exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import uuid_utils
from nats.aio.msg import Msg

from schemas.batch import (
    COUNT_HEADER,
    FORMAT_HEADER,
    MAX_BATCH_FRAMES,
    batch_id,
    encode_batch,
    item_key,
    split_batch,
)
from schemas.envelope import Direction, Envelope, EnvelopeError, Provider, encode_envelope
from services.platform.consumer import FETCH_BYTES, committed_key, next_fetch, progress_after
from services.platform.intake import Item, decode_items
from services.platform.isolation import bisect_apply

SUBJECT = "voice.acme.call-1.batch"


def env(seq: int, session: str = "call-1", tenant: str = "acme") -> bytes:
    return encode_envelope(Envelope(
        event_id=str(uuid_utils.uuid7()), tenant_id=tenant, session_id=session, seq=seq,
        provider=Provider.OPENAI_REALTIME, direction=Direction.CLIENT,
        type="input_audio_buffer.append", recorded_at=datetime.now(UTC), mono_ns=seq,
        payload={"type": "input_audio_buffer.append", "audio": "AAAA"}))


def msg(body: bytes, stream_seq: int = 42, subject: str = SUBJECT,
        headers: dict[str, str] | None = None) -> Msg:
    return Msg(None, subject=subject, data=body, headers=headers,  # type: ignore[arg-type]
               reply=f"$JS.ACK.VOICE.sealer.1.{stream_seq}.7.1700000000000000000.0")


def test_members_become_ordered_items_with_their_own_envelopes() -> None:
    body = encode_batch([env(i) for i in range(3)])
    items = decode_items(msg(body, headers={FORMAT_HEADER: "ndjson/1", COUNT_HEADER: "3"}), None)
    assert [i.reason for i in items] == [None] * 3
    assert [i.key for i in items] == [item_key(42, m) for m in range(3)]
    assert [i.key for i in items] == sorted(i.key for i in items)
    assert [i.delivered.envelope.seq for i in items if i.delivered] == [0, 1, 2]
    assert [i.delivered.key for i in items if i.delivered] == [i.key for i in items]
    assert item_key(42, 2) < item_key(43, 0)


def test_a_bad_member_is_refused_alone_with_its_own_bytes() -> None:
    good = [env(0), env(2)]
    body = b"\n".join([good[0], b'{"event_id": "not json', good[1]])
    items = decode_items(msg(body), None)
    assert [i.reason is None for i in items] == [True, False, True]
    assert items[1].reason is not None and "JSON" in items[1].reason
    letter = items[1].letter(items[1].reason)
    assert (letter.stream_seq, letter.member, letter.raw) == (42, 1, b'{"event_id": "not json')
    assert (letter.tenant_id, letter.session_id) == ("acme", "call-1")


@pytest.mark.parametrize(("member", "reason"), [
    (lambda: env(1, session="call-2"), "subject_mismatch: session"),
    (lambda: env(1, tenant="other"), "subject_mismatch: tenant"),
])
def test_a_member_of_another_session_or_tenant_is_refused(member: Any, reason: str) -> None:
    items = decode_items(msg(encode_batch([env(0), member(), env(2)])), None)
    assert [i.reason for i in items] == [None, reason, None]


@pytest.mark.parametrize(("body", "headers", "reason"), [
    (b"\n".join([b"{}"] * (MAX_BATCH_FRAMES + 1)), None, "more than"),
    (b"x" * (1024 * 1024 + 1), None, "body over"),
    (b"{}\n{}", {COUNT_HEADER: "3"}, "count"),
    (b"{}\n{}", {FORMAT_HEADER: "protobuf/9"}, "format"),
])
def test_a_batch_over_a_bound_or_with_foreign_headers_is_refused_whole(
        body: bytes, headers: dict[str, str] | None, reason: str) -> None:
    items = decode_items(msg(body, headers=headers), None)
    assert len(items) == 1 and items[0].delivered is None
    assert items[0].reason is not None and reason in items[0].reason
    assert items[0].letter(items[0].reason).raw == body  # the message as received


def test_a_single_frame_on_its_kind_subject_is_still_one_item() -> None:
    items = decode_items(msg(env(0), subject="voice.acme.call-1.audio"), None)
    assert len(items) == 1 and items[0].reason is None and items[0].key == item_key(42)
    one = decode_items(msg(env(0)), None)  # one envelope on a batch subject: a one-member batch
    assert len(one) == 1 and one[0].reason is None


def test_the_wire_form_refuses_what_it_cannot_frame() -> None:
    with pytest.raises(EnvelopeError):
        encode_batch([b'{"a":\n1}', b"{}"])
    with pytest.raises(EnvelopeError):
        encode_batch([])
    assert split_batch(encode_batch([b"{}", b"[]"]), None) == [b"{}", b"[]"]
    ids = [str(uuid.uuid4()) for _ in range(3)]
    assert batch_id(ids) == batch_id(list(ids)) != batch_id(ids[:2])


def test_progress_after_a_split_message_covers_exactly_the_committed_members() -> None:
    items = decode_items(msg(encode_batch([env(i) for i in range(5)]), stream_seq=10), None)
    row = progress_after(items[1])  # members 0 and 1 of message 10 committed
    assert row == (9, 2)
    done = committed_key(*row)
    assert [i.key > done for i in items] == [False, False, True, True, True]
    assert progress_after(items[4]) == (10, 0)
    done = committed_key(10, 0)
    assert all(i.key <= done for i in items) and item_key(11, 0) > done
    assert committed_key(0, 0) < item_key(1, 0)  # a fresh row: everything is new


async def test_a_bisect_that_splits_a_message_commits_every_member_once() -> None:
    """The ordered consumer's rule, against a poison member in the middle of a batch: each part
    skips what the progress row covers and advances it; nothing skipped, nothing twice."""
    first = decode_items(msg(encode_batch([env(i) for i in range(3)]), stream_seq=7), None)
    batch = decode_items(msg(encode_batch([env(i) for i in range(3, 9)]), stream_seq=8), None)
    items = first + batch
    poison = batch[3].key
    row = (6, 0)
    applied: list[int] = []

    async def commit(part: list[Item], letters: dict[int, str]) -> None:
        nonlocal row
        done = committed_key(*row)
        fresh = [i for i in part if i.key > done and i.key not in letters]
        if any(i.key == poison for i in fresh):
            raise ValueError("a value the database refuses")
        applied.extend(i.key for i in fresh)
        row = max(row, progress_after(max(part, key=lambda i: i.key)))

    out = await bisect_apply(items, lambda i: i.key, commit)
    assert list(out.letters) == [poison]
    assert applied == [i.key for i in items if i.key != poison]  # once each, in order
    assert row == (8, 0)


def test_a_fetch_asks_for_about_batch_size_events_within_the_byte_budget() -> None:
    # batch messages of 64 events: about 500 events a fetch, not 500 messages
    assert next_fetch(500, 8, 8, 8 * 64, 100_000) == 7
    # single frames: grows twofold per fetch up to batch_size messages
    assert next_fetch(500, 8, 8, 8, 2_000) == 16
    assert next_fetch(500, 400, 400, 400, 2_000) == 500
    # large messages: the byte budget bounds the count, never below one
    assert next_fetch(500, 100, 10, 10, 1_000_000) * 1_000_000 <= FETCH_BYTES
    assert next_fetch(500, 1, 1, 1, 10 * FETCH_BYTES) == 1
