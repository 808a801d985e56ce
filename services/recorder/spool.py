"""The spool file format: append-only, length-prefixed, one CRC32 per record.

    file   = MAGIC record*
    record = u32 body_len | u32 crc32(body) | body            (little-endian)
    body   = u16 subject_len | u16 event_id_len | subject | event_id | data

A crash can leave the last record half-written (a *torn tail*): its length runs past the end of
the file. Bit rot or a partial sector write shows up as a CRC mismatch. Either way nothing after
that point can be framed reliably, so a scan stops there and :func:`repair` truncates the file to
the last good record; the ledger's per-session ``seq`` check reports anything that was cut.

Pure encoding lives here; :mod:`services.recorder.segments` owns the files, locks and fsync.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from schemas.batch import batch_size, is_batch_subject

MAGIC: Final = b"VXSPOOL1"
_HEADER: Final = struct.Struct("<II")
_BODY_HEAD: Final = struct.Struct("<HH")
HEADER_LEN: Final = _HEADER.size
# Envelopes and batch bodies are capped at 1 MiB (schemas); anything much larger is a corrupt
# length.
MAX_BODY: Final = 4 * 1024 * 1024


@dataclass(frozen=True)
class Message:
    """What is published to NATS (and spooled): subject, ``Nats-Msg-Id`` and the envelope bytes,
    or a batch (``event_id`` is then the batch id, ``data`` the batch body: one record).

    ``frames``: how many envelopes it carries; counted from the body when not given (a spooled
    record), given by the recorder that built it (a count scans the whole body)."""

    subject: str
    event_id: str
    data: bytes
    frames: int = 0

    def __post_init__(self) -> None:
        if self.frames <= 0:
            count = batch_size(self.data) if is_batch_subject(self.subject) else 1
            object.__setattr__(self, "frames", count)


class Problem(StrEnum):
    TORN = "torn"  # the last record runs past the end of the file
    CRC = "crc"  # a record's checksum does not match its body
    BAD = "bad"  # impossible length, bad magic or a body that does not parse


@dataclass
class Scan:
    """Records found from an offset: ``(end offset, message)`` pairs, where a scan stopped, why."""

    records: list[tuple[int, Message]] = field(default_factory=list)
    end: int = 0
    problem: Problem | None = None


def encode(msg: Message) -> bytes:
    subject = msg.subject.encode()
    event_id = msg.event_id.encode()
    body = b"".join((_BODY_HEAD.pack(len(subject), len(event_id)), subject, event_id, msg.data))
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


def _decode_body(body: bytes) -> Message | None:
    if len(body) < _BODY_HEAD.size:
        return None
    subject_len, id_len = _BODY_HEAD.unpack_from(body)
    start = _BODY_HEAD.size
    if start + subject_len + id_len > len(body):
        return None
    try:
        subject = body[start:start + subject_len].decode()
        event_id = body[start + subject_len:start + subject_len + id_len].decode()
    except UnicodeDecodeError:
        return None
    return Message(subject, event_id, body[start + subject_len + id_len:])


def scan_bytes(buf: bytes, offset: int = len(MAGIC), limit: int | None = None) -> Scan:
    """Parse records of a whole file image starting at ``offset`` (no I/O; used by tests too)."""
    if buf[:len(MAGIC)] != MAGIC:
        return Scan(end=0, problem=Problem.BAD)
    return _scan(lambda pos, n: buf[pos:pos + n], offset, len(buf), limit)


def read_fd(fd: int, offset: int, size: int, limit: int) -> Scan:
    """Up to ``limit`` records of an open spool file from ``offset`` to ``size`` (pread only)."""
    return _scan(lambda pos, n: os.pread(fd, n, pos), offset, size, limit)


def _scan(read: Callable[[int, int], bytes], offset: int, size: int, limit: int | None) -> Scan:
    """Records from ``offset`` until ``size``; stops at the first torn, corrupt or bad record."""
    result = Scan(end=offset)
    pos = offset
    while pos < size and (limit is None or len(result.records) < limit):
        if pos + HEADER_LEN > size:
            result.problem = Problem.TORN
            break
        length, crc = _HEADER.unpack(read(pos, HEADER_LEN))
        if length > MAX_BODY:
            result.problem = Problem.BAD
            break
        if pos + HEADER_LEN + length > size:
            result.problem = Problem.TORN
            break
        body = read(pos + HEADER_LEN, length)
        if len(body) != length or zlib.crc32(body) != crc:
            result.problem = Problem.CRC
            break
        msg = _decode_body(body)
        if msg is None:
            result.problem = Problem.BAD
            break
        pos += HEADER_LEN + length
        result.records.append((pos, msg))
        result.end = pos
    return result


def repair(path: Path) -> Scan:
    """Validate a whole file and truncate it after its last good record. Returns the scan."""
    data = path.read_bytes()
    result = scan_bytes(data)
    if result.problem is Problem.BAD and result.end == 0:
        # not even a valid magic: keep nothing of it (it was created but never written)
        path.write_bytes(MAGIC)
        result.end = len(MAGIC)
        return result
    if result.end < len(data):
        with open(path, "r+b") as f:
            f.truncate(result.end)
            f.flush()
            os.fsync(f.fileno())
    return result
