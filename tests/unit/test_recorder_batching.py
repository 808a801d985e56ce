"""Batching at the tap: size and linger triggers, the end flushes, deterministic ids, spool
replay deduplicated, all against the in-memory JetStream twin."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest

from schemas.batch import MAX_BATCH_BYTES, batch_id, is_batch_subject, split_batch
from schemas.envelope import Direction, Envelope, Provider, decode_envelope
from services.recorder import Recorder
from services.recorder.pipeline import LatencyHistogram
from services.recorder.publisher import MemoryPublisher, headers_for
from services.recorder.spool import Message

AUDIO = {"type": "input_audio_buffer.append", "audio": "A" * 200}


def members(msg: Message) -> list[Envelope]:
    datas = split_batch(msg.data, None) if is_batch_subject(msg.subject) else [msg.data]
    return [decode_envelope(d) for d in datas]


def recorder(pub: MemoryPublisher, spool: Path, **kwargs: Any) -> Recorder:
    kwargs.setdefault("publish_timeout_s", 0.2)
    return Recorder(pub, "acme", spool_dir=spool, **kwargs)


def sid() -> str:
    return "s-" + secrets.token_hex(6)


async def until(check: Any, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_full_batch_goes_at_once_and_a_partial_one_waits(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path, batch_max_frames=8, batch_linger_ms=10_000)
    s = rec.session(sid(), Provider.OPENAI_REALTIME)
    envs = [s.record(Direction.CLIENT, AUDIO) for _ in range(19)]
    await until(lambda: rec.stats.published == 16)
    await asyncio.sleep(0.05)  # the 3 left stay open: their linger is 10 s
    assert [len(members(m)) for m in pub.messages] == [8, 8]
    assert all(is_batch_subject(m.subject) for m in pub.messages)
    assert pub.messages[0].subject == f"voice.acme.{s.session_id}.batch"
    assert [e.seq for m in pub.messages for e in members(m)] == list(range(16))
    assert pub.messages[1].event_id == batch_id([e.event_id for e in envs[8:16]])
    await rec.flush(timeout=5)  # flush closes the open batch without waiting for the linger
    assert [e.seq for m in pub.messages for e in members(m)] == list(range(19))
    assert rec.stats.queued == rec.stats.published == 19 and rec.stats.batches == 3
    await rec.close(timeout=5)


async def test_the_linger_closes_a_partial_batch(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path, batch_max_frames=64, batch_linger_ms=20)
    s = rec.session(sid(), Provider.OPENAI_REALTIME)
    for _ in range(3):
        s.record(Direction.CLIENT, AUDIO)
    assert pub.messages == []  # record() only enqueues
    await until(lambda: len(pub.messages) == 1)  # no flush: the timer did it
    assert [e.seq for e in members(pub.messages[0])] == [0, 1, 2]
    await rec.close(timeout=5)


async def test_the_session_end_does_not_wait_for_the_linger(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path, batch_linger_ms=10_000)
    async with rec.session(sid(), Provider.OPENAI_REALTIME) as s:
        for _ in range(5):
            await s.client(AUDIO)
    await until(lambda: rec.stats.published == 7)
    got = [e for m in pub.messages for e in members(m)]
    assert [e.seq for e in got] == list(range(7)) and got[-1].type == "session.ended"
    await rec.close(timeout=5)


async def test_a_batch_holds_one_session_and_a_lone_frame_is_sent_plain(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path, batch_linger_ms=10_000)
    a, b = rec.session(sid(), Provider.OPENAI_REALTIME), rec.session(sid(), Provider.GEMINI_LIVE)
    for _ in range(4):
        a.record(Direction.CLIENT, AUDIO)
        b.record(Direction.SERVER, {"serverContent": {"turnComplete": True}})
    lone = rec.session(sid(), Provider.OPENAI_REALTIME)
    env = lone.record(Direction.SERVER, {"type": "response.done"})
    await rec.flush(timeout=5)
    by_session = {m.subject.split(".")[2]: m for m in pub.messages}
    assert {e.session_id for e in members(by_session[a.session_id])} == {a.session_id}
    assert [e.seq for e in members(by_session[b.session_id])] == [0, 1, 2, 3]
    plain = by_session[lone.session_id]
    assert (plain.subject, plain.event_id) == (f"voice.acme.{lone.session_id}.event", env.event_id)
    assert headers_for(plain) == {"Nats-Msg-Id": env.event_id}
    assert headers_for(by_session[a.session_id]) == {
        "Nats-Msg-Id": by_session[a.session_id].event_id, "Voxledger-Batch": "ndjson/1",
        "Voxledger-Batch-Count": "4"}
    await rec.close(timeout=5)


async def test_a_batch_stays_under_the_body_bound(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path, batch_linger_ms=10_000)
    s = rec.session(sid(), Provider.OPENAI_REALTIME)
    big = {"type": "input_audio_buffer.append", "audio": "A" * 300_000}
    for _ in range(10):
        s.record(Direction.CLIENT, big)
    await rec.flush(timeout=5)
    assert all(len(m.data) <= MAX_BATCH_BYTES for m in pub.messages)
    assert [len(members(m)) for m in pub.messages] == [3, 3, 3, 1]
    assert [e.seq for m in pub.messages for e in members(m)] == list(range(10))
    await rec.close(timeout=5)


async def test_a_spooled_batch_is_one_record_and_its_replay_is_deduplicated(
        tmp_path: Path) -> None:
    pub = MemoryPublisher()
    pub.ack_delay_s = 1.0  # stored, but acknowledged after the publish timeout: spilled too
    rec = recorder(pub, tmp_path, publish_timeout_s=0.05, batch_max_frames=10,
                   batch_linger_ms=10_000)
    s = rec.session(sid(), Provider.OPENAI_REALTIME)
    for _ in range(50):
        s.record(Direction.CLIENT, AUDIO)
    await until(lambda: rec.spilling and rec.stats.spilled > 0)
    assert rec.stats.spilled % 10 == 0  # whole batches, one spool record each
    pub.ack_delay_s = 0.0
    await rec.flush(timeout=5)
    assert pub.duplicates > 0  # the replayed batches carried the same Nats-Msg-Id
    got = [e.seq for m in pub.messages for e in members(m)]
    assert got == list(range(50))  # each frame once, in order
    assert rec.stats.published == 50 and rec.stats.dropped == 0
    await rec.close(timeout=5)


async def test_a_closed_recorder_keeps_open_batches_in_the_spool(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    pub.up = False
    first = recorder(pub, tmp_path, batch_linger_ms=10_000)
    async with first.session(sid(), Provider.TWILIO_MEDIA) as s:
        for _ in range(30):
            await s.server({"event": "media", "media": {"payload": "AAAA"}})
    await first.close(timeout=0.3)
    assert pub.messages == []
    pub.up = True
    second = recorder(pub, tmp_path)
    second.start()
    await second.flush(timeout=5)
    assert len(pub.messages) == 1 and [e.seq for e in members(pub.messages[0])] == \
        list(range(32))
    assert second.stats.drained == 32
    await second.close(timeout=5)


async def test_record_latency_is_kept_per_call(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path)
    s = rec.session(sid(), Provider.OPENAI_REALTIME)
    for _ in range(100):
        s.record(Direction.CLIENT, AUDIO)
    assert rec.stats.record_ns.total == 100
    p99 = rec.stats.record_ns.percentile_ns(99)
    assert 0 < p99 <= rec.stats.max_record_ns * 1.13 + 1
    await rec.close(timeout=5)


def test_the_latency_histogram_is_within_its_bucket_width() -> None:
    h = LatencyHistogram()
    for ns in range(1, 10_001):
        h.add(ns * 1000)
    for q, exact in ((50, 5_000_000), (99, 9_900_000), (100, 10_000_000)):
        got = h.percentile_ns(q)
        assert exact <= got <= exact * 1.13
    assert LatencyHistogram().percentile_ns(99) == 0


def test_batch_settings_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        recorder(MemoryPublisher(), tmp_path, batch_max_frames=0)
    with pytest.raises(ValueError):
        recorder(MemoryPublisher(), tmp_path, batch_max_frames=5000)


async def test_a_lost_batch_is_one_gap_range_after_the_open_batch(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path, max_queue=5, batch_max_frames=4, batch_linger_ms=10_000)
    s = rec.session(sid(), Provider.OPENAI_REALTIME)
    for _ in range(14):  # no await: batches 0-3 and 4-7 queued, 8-11 over the bound, 12-13 open
        s.record(Direction.CLIENT, AUDIO)
    assert rec.stats.queued == 8 and rec.stats.dropped == 4
    # the queue drains and the marker is due while 12-13 are still open (linger 10 s)
    await until(lambda: rec.stats.gaps == 1)
    await rec.flush(timeout=5)
    got = [e for m in pub.messages for e in members(m)]
    # the open batch (12, 13) is queued before the gap marker that takes the next seq
    assert [e.seq for e in got] == [*range(8), 12, 13, 14]
    assert got[-1].type == "recorder.gap"
    assert (got[-1].payload["first_seq"], got[-1].payload["last_seq"]) == (8, 11)
    await rec.close(timeout=5)
