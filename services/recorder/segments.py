"""The spool directory: segment files, ownership locks, byte cap and fsync policy.

Every method is blocking; the recorder calls them from one task through ``asyncio.to_thread`` so
disk latency never lands on the event loop that carries the call.

Ownership: the writing process holds an ``flock`` on every segment it has not drained yet. A new
Recorder (after a gateway crash or restart) adopts any ``*.spool`` file whose lock it can take,
repairs its tail and drains it before its own segments, so older frames go out first. A segment
is created under a ``.tmp`` name and renamed only once locked, so a scan never grabs a segment that
a live process is still creating. Segment names start with ``time_ns`` so name order is age order.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from services.recorder.spool import MAGIC, Message, encode, read_fd, repair

log = logging.getLogger(__name__)

FsyncPolicy = Literal["always", "interval", "never"]
SUFFIX = ".spool"


@dataclass
class Segment:
    path: Path
    fd: int
    size: int
    cursor: int  # offset of the first record not yet acknowledged by JetStream


class Spool:
    def __init__(self, directory: Path, *, fsync: FsyncPolicy = "interval",
                 fsync_interval_s: float = 0.1, max_bytes: int = 1 << 30,
                 segment_bytes: int = 64 << 20) -> None:
        self.directory = directory
        self.fsync = fsync
        self.fsync_interval_s = fsync_interval_s
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.truncated = 0  # files whose tail was torn or corrupt when adopted
        self.refusal: str | None = None  # why the last append kept less than it was given
        self._segments: deque[Segment] = deque()
        self._active: Segment | None = None  # the segment appended to; always the last one
        self._dirty = False
        self._last_sync = time.monotonic()

    # --- state -----------------------------------------------------------------------------

    @property
    def bytes(self) -> int:
        return sum(s.size for s in self._segments)

    @property
    def empty(self) -> bool:
        return all(s.cursor >= s.size for s in self._segments)

    @property
    def segments(self) -> int:
        return len(self._segments)

    # --- adoption --------------------------------------------------------------------------

    def adopt_orphans(self) -> int:
        """Take over unlocked segments left by a dead process. Returns how many were adopted."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        adopted = 0
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if any(s.path == path for s in self._segments):
                continue
            fd = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)  # a live recorder owns it
                continue
            scan = repair(path)
            if scan.problem is not None:
                self.truncated += 1
                log.warning("recorder spool: %s had a %s tail; truncated at %d",
                            path.name, scan.problem.value, scan.end)
            size = os.fstat(fd).st_size
            if size <= len(MAGIC):
                path.unlink(missing_ok=True)
                os.close(fd)
                continue
            # adopted segments are older than anything we write: drain them first
            self._segments.insert(adopted, Segment(path, fd, size, len(MAGIC)))
            adopted += 1
        return adopted

    # --- writing ---------------------------------------------------------------------------

    def _new_segment(self) -> Segment:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}"
        tmp = self.directory / f"{name}.tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, MAGIC)
            path = tmp.with_suffix(SUFFIX)
            os.rename(tmp, path)
            if self.fsync != "never":
                os.fsync(fd)
                self._sync_dir()
        except OSError:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return Segment(path, fd, len(MAGIC), len(MAGIC))

    def append(self, messages: list[Message]) -> int:
        """Append in order; returns how many were written. The rest did not fit (cap or disk)."""
        total = self.bytes
        chunk: list[bytes] = []
        for msg in messages:
            record = encode(msg)
            if total + len(record) > self.max_bytes:
                break
            chunk.append(record)
            total += len(record)
        self.refusal = None if len(chunk) == len(messages) else "spool byte cap reached"
        if not chunk:
            return 0
        try:
            if self._active is None or self._active.size >= self.segment_bytes:
                self._active = self._new_segment()
                self._segments.append(self._active)
            seg = self._active
            data = b"".join(chunk)
            n = os.write(seg.fd, data)
            if n != len(data):
                raise OSError(errno.ENOSPC, "short write")
        except OSError as exc:
            # keep the file well-formed: cut whatever part of the batch made it to disk
            if self._active is not None:
                os.ftruncate(self._active.fd, self._active.size)
            self.refusal = f"spool write failed: {errno.errorcode.get(exc.errno or 0, 'EIO')}"
            log.error("recorder spool: %s", self.refusal)
            return 0
        seg.size += n
        self._dirty = True
        due = time.monotonic() - self._last_sync >= self.fsync_interval_s
        if self.fsync == "always" or (self.fsync == "interval" and due):
            self.sync()
        return len(chunk)

    def sync(self) -> None:
        if self._dirty and self._active is not None and self.fsync != "never":
            os.fsync(self._active.fd)
        self._dirty = False
        self._last_sync = time.monotonic()

    def sync_due(self) -> bool:
        return (self.fsync == "interval" and self._dirty
                and time.monotonic() - self._last_sync >= self.fsync_interval_s)

    def _sync_dir(self) -> None:
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    # --- draining --------------------------------------------------------------------------

    def read(self, limit: int) -> list[tuple[int, Message]]:
        """The next records not yet drained, oldest first; :meth:`advance` commits them."""
        self._drop_drained()
        if not self._segments:
            return []
        seg = self._segments[0]
        scan = read_fd(seg.fd, seg.cursor, seg.size, limit)
        if scan.problem is not None and not scan.records:
            # only adopted files can be damaged (ours are cut on write errors): skip the rest
            log.error("recorder spool: %s is %s at %d; skipping its remainder",
                      seg.path.name, scan.problem.value, seg.cursor)
            self.truncated += 1
            seg.cursor = seg.size
        return scan.records

    def advance(self, offset: int) -> None:
        self._segments[0].cursor = offset
        self._drop_drained()

    def _drop_drained(self) -> None:
        while self._segments and self._segments[0].cursor >= self._segments[0].size:
            seg = self._segments[0]
            if seg is self._active:
                return  # still being written; released by release_drained()
            self._segments.popleft()
            self._discard(seg)

    def release_drained(self) -> None:
        """Drop the active segment once everything in it is acknowledged."""
        if self._active is not None and self._active.cursor >= self._active.size:
            self._segments.remove(self._active)
            self._discard(self._active)
            self._active = None
            self._dirty = False

    @staticmethod
    def _discard(seg: Segment) -> None:
        seg.path.unlink(missing_ok=True)  # unlink before unlocking: nobody adopts it meanwhile
        os.close(seg.fd)

    def close(self) -> None:
        """Sync and unlock; undrained segments stay on disk for the next Recorder to adopt."""
        if self._active is not None and self.fsync != "never":
            os.fsync(self._active.fd)
        self._drop_drained()
        self.release_drained()
        for seg in self._segments:
            os.close(seg.fd)
        self._segments.clear()
        self._active = None
