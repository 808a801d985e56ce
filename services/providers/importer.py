"""``voxledger import``: bring a recorded log of raw provider frames into the ledger.

Input is JSONL; each line is a bare frame (then it came from the provider: ``server``) or
``{"direction": "client"|"server", "recorded_at": ..., "frame": {...}}``. ``recorded_at`` (ISO
8601 or Unix seconds) sets the timeline: ``mono_ns`` is the time since the first stamped line.

Raw first: every line that is a JSON object is recorded as it was, even if it cannot be
interpreted (bad base64, unknown type); such lines are reported by line number with a reason
code, never with their content. Lines that are not JSON objects cannot be frames and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import MAX_ENVELOPE_BYTES, Direction, Envelope, EnvelopeError, Provider
from services.providers.interpret import interpret

_STAMP_BYTES = 4096  # room for the envelope fields around the payload


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


def read_lines(lines: Iterable[str]) -> tuple[list[Parsed], list[LineError]]:
    frames: list[Parsed] = []
    errors: list[LineError] = []
    for number, text in enumerate(lines, start=1):
        result = parse_line(number, text)
        if isinstance(result, Parsed):
            frames.append(result)
        elif isinstance(result, LineError):
            errors.append(result)
    return frames, errors


def offsets_ns(frames: list[Parsed]) -> list[int]:
    """``mono_ns`` from ``recorded_at`` differences; an unstamped line keeps the last time."""
    t0 = next((f.at for f in frames if f.at is not None), None)
    out: list[int] = []
    last = 0
    for f in frames:
        if f.at is not None and t0 is not None:
            last = max(0, int((f.at - t0).total_seconds() * 1e9))
        out.append(last)
    return out


def interpretation_errors(envelopes: list[tuple[int, Envelope]]) -> list[LineError]:
    """What the interpreters could not read, mapped back to input line numbers."""
    line_of = {env.seq: line for line, env in envelopes}
    tl = interpret(env for _, env in envelopes)
    errors = [LineError(line_of[e.seq], e.reason) for e in tl.frame_errors if e.seq in line_of]
    errors += [LineError(line_of[u.seq], "unknown_type") for u in tl.unknown if u.seq in line_of]
    return errors


async def import_frames(settings: Any, tenant_id: str, session_id: str, provider: Provider,
                        lines: Iterable[str], progress: Callable[[int], None] | None = None
                        ) -> ImportResult:
    """Record every frame through the recorder SDK; returns counts and per-line errors."""
    from services.recorder import Recorder

    frames, errors = read_lines(lines)
    result = ImportResult(tenant_id, session_id, errors=errors)
    recorded: list[tuple[int, Envelope]] = []
    from services.platform.gateway import as_gateway

    recorder = await Recorder.connect(await as_gateway(settings, tenant_id), tenant_id)
    try:
        async with recorder.session(session_id, provider) as session:
            for f, at_ns in zip(frames, offsets_ns(frames), strict=True):
                # Refuse oversized frames before they take a seq: seq must stay gapless.
                if len(json.dumps(f.frame)) > MAX_ENVELOPE_BYTES - _STAMP_BYTES:
                    result.errors.append(LineError(f.line, "too_large"))
                    continue
                try:
                    env = session.record(f.direction, f.frame, at_ns=at_ns)
                except (EnvelopeError, ValueError):
                    result.errors.append(LineError(f.line, "not_recordable"))
                    continue
                recorded.append((f.line, env))
                result.events += 1
                if progress is not None and result.events % 1000 == 0:
                    progress(result.events)
        await recorder.flush()
    finally:
        await recorder.close()
    result.errors.extend(interpretation_errors(recorded))
    result.errors.sort(key=lambda e: e.line)
    return result
