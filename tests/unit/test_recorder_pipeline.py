"""Recorder against the in-memory JetStream twin: spill, drain, gap markers, adoption."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from schemas.batch import is_batch_subject, split_batch
from schemas.envelope import Direction, Envelope, Provider, decode_envelope
from schemas.system_events import Gap
from services.recorder import Recorder
from services.recorder.publisher import MemoryPublisher
from services.recorder.spool import MAGIC, Message, encode

AUDIO = {"type": "input_audio_buffer.append", "audio": "A" * 200}


def envelopes(pub: MemoryPublisher, session_id: str) -> list[Envelope]:
    """Every published envelope in stream order, batch members included."""
    members = (d for m in pub.messages for d in (split_batch(m.data, None)
                                                 if is_batch_subject(m.subject) else [m.data]))
    return [e for e in map(decode_envelope, members) if e.session_id == session_id]


def recorder(pub: MemoryPublisher, spool: Path, **kwargs: Any) -> Recorder:
    kwargs.setdefault("publish_timeout_s", 0.2)
    # One message per frame: these tests name frames by event id and count spool records per
    # frame; batches through the same spill, drain and gap paths: test_recorder_batching.py.
    kwargs.setdefault("batch_max_frames", 1)
    return Recorder(pub, "acme", spool_dir=spool, **kwargs)


def sid() -> str:
    return "s-" + secrets.token_hex(6)


async def test_frames_are_published_in_order_with_gapless_seq(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path)
    session = sid()
    async with rec.session(session, Provider.OPENAI_REALTIME) as s:
        for _ in range(100):
            await s.client(AUDIO)
    await rec.close(timeout=5)
    got = envelopes(pub, session)
    assert [e.seq for e in got] == list(range(102))
    assert got[0].type == "session.started" and got[-1].type == "session.ended"
    assert rec.stats.published == 102 and rec.stats.spilled == 0 and rec.stats.dropped == 0


async def test_an_outage_spills_then_drains_in_order(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path)
    session = sid()
    s = rec.session(session, Provider.OPENAI_REALTIME)
    await s.__aenter__()
    pub.up = False
    for _ in range(200):
        await s.client(AUDIO)
        await asyncio.sleep(0)
    await asyncio.sleep(0.1)
    assert rec.spilling and rec.stats.spilled > 0
    assert list(tmp_path.glob("*.spool"))
    pub.up = True
    await s.end()
    await rec.flush(timeout=5)
    seqs = [e.seq for e in envelopes(pub, session)]
    assert seqs == list(range(202))  # stream order is seq order: the spool kept it
    assert rec.stats.drained == rec.stats.spilled > 0
    assert rec.stats.dropped == 0 and not rec.spilling
    assert list(tmp_path.glob("*.spool")) == []
    await rec.close(timeout=5)


async def test_a_drain_that_fails_midway_resumes_from_the_first_unacked(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path)
    session = sid()
    s = rec.session(session, Provider.OPENAI_REALTIME)
    pub.up = False
    envs = [await s.client(AUDIO) for _ in range(60)]
    await asyncio.sleep(0.05)
    assert rec.stats.spilled == 60
    pub.refuse_once = {envs[10].event_id, envs[40].event_id}
    pub.up = True
    await rec.flush(timeout=10)
    assert sorted(e.seq for e in envelopes(pub, session)) == list(range(60))
    assert rec.stats.drained == 60 and rec.stats.retried >= 2
    await rec.close(timeout=5)


async def test_a_slow_server_spills_and_the_drain_is_deduplicated(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    pub.ack_delay_s = 1.0  # longer than the publish timeout: stored, but never acked in time
    rec = recorder(pub, tmp_path, publish_timeout_s=0.05)
    session = sid()
    s = rec.session(session, Provider.GEMINI_LIVE)
    await s.__aenter__()
    for _ in range(50):
        await s.server({"serverContent": {"turnComplete": True}})
        await asyncio.sleep(0.002)
    assert rec.spilling and rec.stats.spilled > 0
    pub.ack_delay_s = 0.0
    await s.end()
    await rec.flush(timeout=5)
    assert sorted(e.seq for e in envelopes(pub, session)) == list(range(52))
    assert pub.duplicates > 0  # what landed before the timeout came again, and was dropped
    assert rec.stats.dropped == 0
    await rec.close(timeout=5)


async def test_a_full_spool_emits_a_gap_event_with_the_lost_range(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    pub.up = False
    probe = len(encode(Message("voice.acme.x.audio", "0" * 36, b"x" * 420)))
    rec = recorder(pub, tmp_path, spool_max_bytes=len(MAGIC) + 10 * probe)
    session = sid()
    s = rec.session(session, Provider.OPENAI_REALTIME)
    await s.__aenter__()  # seq 0
    for _ in range(40):  # seq 1..40
        await s.client(AUDIO)
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)
    kept = rec.stats.spilled
    assert 0 < kept < 41
    assert rec.stats.dropped == 41 - kept and rec.stats.gaps == 0  # no room for a marker yet
    pub.up = True
    await rec.flush(timeout=5)
    got = envelopes(pub, session)
    gaps = [e for e in got if e.type == "recorder.gap"]
    assert len(gaps) == 1 and gaps[0].direction is Direction.SYSTEM
    gap = Gap.model_validate(gaps[0].payload)
    assert (gap.first_seq, gap.last_seq) == (kept, 40)
    assert gap.reason == "spool byte cap reached"
    assert gaps[0].seq == 41  # the marker takes the next seq: the session stays gapless
    assert [e.seq for e in got] == [*range(kept), 41]
    assert rec.stats.gaps == 1 and rec.stats.dropped == 41 - kept
    await s.end()
    await rec.close(timeout=5)
    assert envelopes(pub, session)[-1].seq == 42


async def test_a_full_memory_queue_is_a_gap_too(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    rec = recorder(pub, tmp_path, max_queue=5)
    session = sid()
    s = rec.session(session, Provider.OPENAI_REALTIME)
    for _ in range(12):  # no await: the publisher task never runs in between
        s.record(Direction.CLIENT, AUDIO)
    assert rec.stats.queued == 5 and rec.stats.dropped == 7
    await rec.flush(timeout=5)
    got = envelopes(pub, session)
    gap = Gap.model_validate(got[-1].payload)
    assert (gap.first_seq, gap.last_seq, gap.reason) == (5, 11, "memory queue full")
    assert [e.seq for e in got] == [0, 1, 2, 3, 4, 12]
    await rec.close(timeout=5)


async def test_a_new_recorder_drains_what_a_closed_one_left(tmp_path: Path) -> None:
    pub = MemoryPublisher()
    pub.up = False
    first = recorder(pub, tmp_path)
    session = sid()
    async with first.session(session, Provider.TWILIO_MEDIA) as s:
        for _ in range(30):
            await s.server({"event": "media", "media": {"payload": "AAAA"}})
    await first.close(timeout=0.3)  # JetStream stays away: the frames stay on disk
    assert list(tmp_path.glob("*.spool")) and pub.messages == []
    pub.up = True
    second = recorder(pub, tmp_path)
    second.start()
    await second.flush(timeout=5)
    assert [e.seq for e in envelopes(pub, session)] == list(range(32))
    assert second.stats.drained == 32
    assert list(tmp_path.glob("*.spool")) == []
    await second.close(timeout=5)


async def test_a_frame_published_twice_lands_once(tmp_path: Path) -> None:
    """A drain repeats the Nats-Msg-Id of a timed-out publish; the twin dedupes like JetStream."""
    pub = MemoryPublisher()
    m = Message("voice.acme.s.event", "e-1", b"{}")
    assert await pub.publish([m, m], timeout=1) == [True, True]
    assert len(pub.messages) == 1 and pub.duplicates == 1
