"""``voxledger import``: bring a recorded log of raw provider frames into the ledger.

Input is JSONL; each line is a bare frame (then it came from the provider: ``server``) or
``{"direction": "client"|"server", "recorded_at": ..., "frame": {...}}``. ``recorded_at`` (ISO
8601 or Unix seconds) sets the timeline: ``mono_ns`` is the time since the first stamped line.

Streaming: the file is read line by line (a line longer than the envelope limit is skipped
without being read into memory) and each frame is recorded as it is read.

Raw first: every line that is a JSON object is recorded as it was, even if it cannot be
interpreted (bad base64, unknown type); such lines are reported by line number with a reason
code, never with their content. Lines that are not JSON objects cannot be frames and are skipped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

from pydantic import ValidationError

from schemas.envelope import MAX_ENVELOPE_BYTES, Direction, Envelope, EnvelopeError, Provider
from services.providers.interpret import Interpreter

# The package re-exports ``interpret`` the function under the module's name.

_STAMP_BYTES = 4096  # room for the envelope fields around the payload
# A line is one frame: past the envelope limit it cannot be recorded, so it is never read whole.
MAX_LINE_BYTES = MAX_ENVELOPE_BYTES


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str


@dataclass(frozen=True)
class Parsed:
    line: int
    direction: Direction
    frame: dict[str, Any]
    at: datetime | None


@dataclass
class ImportResult:
    tenant_id: str
    session_id: str
    events: int = 0
    errors: list[LineError] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"events": self.events, "session_id": self.session_id, "tenant_id": self.tenant_id,
                "errors": [{"line": e.line, "reason": e.reason} for e in self.errors]}


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError


def parse_line(number: int, text: str) -> Parsed | LineError | None:
    """One JSONL line → a frame to record, an error, or None for a blank line. Pure."""
    if not text.strip():
        return None
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return LineError(number, "not_json")
    if not isinstance(obj, dict):
        return LineError(number, "not_an_object")
    if "frame" not in obj or "direction" not in obj:
        return Parsed(number, Direction.SERVER, obj, None)
    frame, direction = obj.get("frame"), obj.get("direction")
    if not isinstance(frame, dict):
        return LineError(number, "wrong_type:frame")
    if direction not in ("client", "server"):
        return LineError(number, "invalid_direction")
    try:
        at = _timestamp(obj["recorded_at"]) if obj.get("recorded_at") is not None else None
    except (ValueError, OverflowError, OSError):
        return LineError(number, "invalid_recorded_at")
    return Parsed(number, Direction(direction), frame, at)


def bounded_lines(stream: BinaryIO, cap: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str | None]]:
    """(number, text) per line, reading at most ``cap + 1`` bytes of any line into memory; a
    longer line yields None (its rest is skipped in blocks), bad UTF-8 is replaced."""
    number = 0
    while True:
        line = stream.readline(cap + 1)
        if not line:
            return
        number += 1
        if len(line) > cap and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 16)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line.decode("utf-8", errors="replace")


class _Stamps:
    """``mono_ns`` from ``recorded_at`` differences, line by line: the first stamped line is
    time 0, an unstamped line keeps the last time."""

    def __init__(self) -> None:
        self.t0: datetime | None = None
        self.last = 0

    def offset(self, at: datetime | None) -> int:
        if at is not None:
            if self.t0 is None:
                self.t0 = at
            self.last = max(0, int((at - self.t0).total_seconds() * 1e9))
        return self.last


class _Checker:
    """Interprets the recorded envelopes as they are recorded (the renderer's incremental walk)
    to report, by line, what the interpreters could not read; holds no payloads."""

    def __init__(self) -> None:
        self.interpreter = Interpreter()
        self.b = self.interpreter.builder
        self.line_of: dict[int, int] = {}

    def feed(self, line: int, env: Envelope) -> None:
        self.line_of[env.seq] = line
        self.interpreter.feed(env)

    def errors(self) -> list[LineError]:
        line_of = self.line_of
        out = [LineError(line_of[e.seq], e.reason) for e in self.b.frame_errors
               if e.seq in line_of]
        return out + [LineError(line_of[u.seq], "unknown_type") for u in self.b.unknown
                      if u.seq in line_of]


def _numbered(source: BinaryIO | Iterable[str]) -> Iterator[tuple[int, str | None]]:
    if hasattr(source, "readline") and hasattr(source, "read") and not hasattr(source,
                                                                              "encoding"):
        yield from bounded_lines(cast(BinaryIO, source))
        return
    for number, text in enumerate(cast(Iterable[str], source), start=1):
        yield number, (text if len(text) <= MAX_LINE_BYTES else None)


async def import_frames(settings: Any, tenant_id: str, session_id: str, provider: Provider,
                        source: BinaryIO | Iterable[str],
                        progress: Callable[[int], None] | None = None) -> ImportResult:
    """Record every frame through the recorder SDK, streaming ``source`` (a binary file or
    lines); returns counts and per-line errors. No line is held after it is recorded."""
    from services.recorder import Recorder

    result = ImportResult(tenant_id, session_id)
    stamps, checker = _Stamps(), _Checker()
    max_ns = settings.session_max_duration_s * 1e9
    from services.platform.gateway import as_gateway

    recorder = await Recorder.connect(await as_gateway(settings, tenant_id), tenant_id)
    try:
        async with recorder.session(session_id, provider) as session:
            for number, text in _numbered(source):
                if text is None:
                    result.errors.append(LineError(number, "too_large"))
                    continue
                parsed = parse_line(number, text)
                if parsed is None:
                    continue
                if isinstance(parsed, LineError):
                    result.errors.append(parsed)
                    continue
                try:
                    at_ns = stamps.offset(parsed.at)
                except OverflowError:
                    result.errors.append(LineError(number, "invalid_recorded_at"))
                    continue
                if at_ns > max_ns:
                    # The ledger refuses a timeline past the longest call; so does import.
                    result.errors.append(LineError(number, "exceeds_max_call_length"))
                    continue
                # Refuse oversized frames before they take a seq: seq must stay gapless.
                if len(text) > MAX_ENVELOPE_BYTES - _STAMP_BYTES:
                    result.errors.append(LineError(number, "too_large"))
                    continue
                try:
                    env = session.record(parsed.direction, parsed.frame, at_ns=at_ns)
                except (EnvelopeError, ValueError) as exc:
                    result.errors.append(LineError(number, _refusal(exc)))
                    continue
                checker.feed(number, env)
                result.events += 1
                if progress is not None and result.events % 1000 == 0:
                    progress(result.events)
                if result.events % 200 == 0:
                    await asyncio.sleep(0)  # let the recorder publish while we read
        await recorder.flush()
    finally:
        await recorder.close()
    result.errors.extend(checker.errors())
    result.errors.sort(key=lambda e: e.line)
    return result


def _refusal(exc: Exception) -> str:
    """The contract's error code (``payload: nul_character`` → ``nul_character``), no values."""
    if isinstance(exc, ValidationError):
        kinds = [str(e["type"]) for e in exc.errors(include_input=False, include_url=False)]
        return "not_recordable:" + ",".join(sorted(set(kinds))[:3])
    return "not_recordable"
