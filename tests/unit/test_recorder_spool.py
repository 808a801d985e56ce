"""The spool file format and the segment directory: order, torn tails, CRC, cap, adoption."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.recorder.segments import Spool
from services.recorder.spool import MAGIC, Message, Problem, encode, read_fd, repair, scan_bytes


def msg(i: int, size: int = 40) -> Message:
    return Message(f"voice.t.s.event{i % 3}", f"id-{i:06d}", bytes([i % 251]) * size)


def image(messages: list[Message]) -> bytes:
    return MAGIC + b"".join(encode(m) for m in messages)


def test_records_read_back_in_order() -> None:
    messages = [msg(i, size=i * 7) for i in range(50)]  # includes an empty payload
    scan = scan_bytes(image(messages))
    assert scan.problem is None
    assert [m for _, m in scan.records] == messages
    assert scan.end == len(image(messages))


def test_scan_resumes_from_an_offset_with_a_limit() -> None:
    messages = [msg(i) for i in range(10)]
    data = image(messages)
    first = scan_bytes(data, limit=4)
    assert [m for _, m in first.records] == messages[:4]
    rest = scan_bytes(data, offset=first.end)
    assert [m for _, m in rest.records] == messages[4:]


@pytest.mark.parametrize("cut", [1, 4, 7, 8, 9, 30])
def test_torn_tail_is_detected_and_truncated(tmp_path: Path, cut: int) -> None:
    messages = [msg(i) for i in range(5)]
    whole = image(messages)
    good = len(image(messages[:4]))
    path = tmp_path / "a.spool"
    path.write_bytes(whole[:good + cut])  # the fifth record half-written
    scan = repair(path)
    assert scan.problem is Problem.TORN
    assert [m for _, m in scan.records] == messages[:4]
    assert path.read_bytes() == whole[:good]


def test_crc_mismatch_is_detected(tmp_path: Path) -> None:
    messages = [msg(i) for i in range(5)]
    data = bytearray(image(messages))
    third = len(image(messages[:2]))
    data[third + 8 + 20] ^= 0x01  # one bit inside the third record's body
    scan = scan_bytes(bytes(data))
    assert scan.problem is Problem.CRC
    assert [m for _, m in scan.records] == messages[:2]
    path = tmp_path / "b.spool"
    path.write_bytes(bytes(data))
    fd = os.open(path, os.O_RDONLY)
    try:
        assert read_fd(fd, len(MAGIC), len(data), 100).problem is Problem.CRC
    finally:
        os.close(fd)
    repair(path)
    assert path.read_bytes() == image(messages[:2])


def test_a_clean_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "c.spool"
    path.write_bytes(image([msg(1), msg(2)]))
    assert repair(path).problem is None
    assert path.read_bytes() == image([msg(1), msg(2)])


def test_bad_magic_and_absurd_length() -> None:
    assert scan_bytes(b"NOTSPOOL" + encode(msg(1))).problem is Problem.BAD
    assert scan_bytes(MAGIC + b"\xff\xff\xff\x7f\x00\x00\x00\x00").problem is Problem.BAD


@pytest.mark.parametrize("fsync", ["always", "interval", "never"])
def test_segments_append_read_advance_across_rotation(tmp_path: Path, fsync: str) -> None:
    spool = Spool(tmp_path, fsync=fsync, segment_bytes=500)  # type: ignore[arg-type]
    messages = [msg(i) for i in range(40)]
    for i in range(0, 40, 7):
        assert spool.append(messages[i:i + 7]) == len(messages[i:i + 7])
    assert spool.segments > 1
    got: list[Message] = []
    while records := spool.read(6):
        got += [m for _, m in records]
        spool.advance(records[-1][0])
    assert got == messages
    assert spool.empty
    spool.release_drained()
    assert list(tmp_path.iterdir()) == []  # drained segments are deleted


def test_byte_cap_keeps_a_prefix(tmp_path: Path) -> None:
    record = len(encode(msg(0)))
    spool = Spool(tmp_path, max_bytes=len(MAGIC) + 3 * record)
    assert spool.append([msg(i) for i in range(5)]) == 3
    assert spool.refusal == "spool byte cap reached"
    assert spool.append([msg(9)]) == 0
    assert [m for _, m in spool.read(10)] == [msg(0), msg(1), msg(2)]


def test_orphans_of_a_dead_process_are_adopted_and_repaired(tmp_path: Path) -> None:
    old = Spool(tmp_path)
    old.append([msg(i) for i in range(3)])
    name = next(tmp_path.glob("*.spool"))
    old.close()  # like a crash: the lock goes away, the file stays
    with open(name, "ab") as f:
        f.write(encode(msg(3))[:10])  # a torn tail
    new = Spool(tmp_path)
    assert new.adopt_orphans() == 1
    assert new.truncated == 1
    new.append([msg(4)])
    got = []
    while records := new.read(100):
        got += [m for _, m in records]
        new.advance(records[-1][0])
    assert got == [msg(0), msg(1), msg(2), msg(4)]  # the orphan first


def test_a_live_owner_keeps_its_segments(tmp_path: Path) -> None:
    path = tmp_path / "00000000000000000001-1-aaaa.spool"
    path.write_bytes(image([msg(1)]))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(30)", str(path)],
        stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        assert Spool(tmp_path).adopt_orphans() == 0
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    fd = os.open(path, os.O_RDWR)  # and once it is gone, the lock can be taken
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
