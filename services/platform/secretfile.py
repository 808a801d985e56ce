"""Files that hold secrets: created 0600 from their first byte, replaced atomically.

Never ``write_text`` then ``chmod``: between the two the file is readable by others (the umask
decides), and a crash leaves it so. ``mkstemp`` creates the temporary file with O_EXCL and mode
0600 in the target's directory; ``os.replace`` then swaps it in, so readers see the old file or
the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_secret(path: Path, data: str | bytes, *, owner_uid: int | None = None,
                 owner_gid: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600 (and, when root, an owner)."""
    body = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        if owner_uid is not None:
            os.chown(tmp, owner_uid, owner_gid if owner_gid is not None else -1)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def create_secret(path: Path, data: str | bytes) -> bool:
    """Create ``path`` (0600, complete or not at all) unless it exists; True when created."""
    body = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)  # atomic create-if-absent: fails when another writer got there first
        return True
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def open_private_log(path: Path) -> int:
    """A log file descriptor for a server's output: appended, never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    if os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, 0o600)  # a log an older version created world-readable: tighten it
    return fd
