"""Twilio Media Streams (wire-formats.md §2): the phone leg, and the only truth of what played.

``client`` frames are what the app sent Twilio (outbound media, marks, ``clear``); ``server``
frames are Twilio's (inbound media, mark echoes, ``start``/``stop``, ``dtmf``). A mark echoed
before a ``clear`` means playback reached it; marks echoed after a ``clear`` were never played.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.envelope import Direction
from services.providers.builder import Builder
from services.providers.formats import (
    ULAW8K,
    FrameProblem,
    b64_length,
    codec_of,
    get_dict,
    get_str,
    make_format,
)
from services.providers.timeline import ConfigChange


@dataclass
class _Marks:
    pending: list[tuple[str, float]] = field(default_factory=list)  # (name, agent audio ms)
    flushed: dict[str, int] = field(default_factory=dict)  # echoes still due after a clear
    confirmed_ms: float = 0.0


def _marks(b: Builder) -> _Marks:
    found = b.state.get("twilio.marks")
    if not isinstance(found, _Marks):
        found = _Marks()
        b.state["twilio.marks"] = found
    return found


def _start(b: Builder, f: dict[str, Any]) -> None:
    start = get_dict(f, "start", required=True)
    media = get_dict(start, "mediaFormat")
    fmt = ULAW8K
    if media:
        codec = codec_of(media.get("encoding"))
        if codec is None:
            raise FrameProblem("unknown_audio_format")
        fmt = make_format(codec, media.get("sampleRate"), media.get("channels", 1))
    b.configs.append(ConfigChange(b.now_ms, b.seq, "twilio.start", fmt, fmt))
    b.state["twilio.format"] = fmt
    b.marker("twilio.start")


def _format(b: Builder) -> Any:
    return b.state.get("twilio.format", ULAW8K)


def _media(b: Builder, f: dict[str, Any], direction: Direction) -> None:
    media = get_dict(f, "media", required=True)
    nbytes = b64_length(media.get("payload"), "media.payload")
    track = get_str(media, "track")
    if direction is Direction.CLIENT or track == "outbound":
        # Played in order from when Twilio receives it; a cut turn's later audio still plays
        # if the app sends it, so the turn's closed state does not apply here.
        b.agent_audio(nbytes, _format(b), b.current_agent, dropped=False)
    else:
        b.caller_audio(nbytes, _format(b))


def _mark(b: Builder, f: dict[str, Any], direction: Direction) -> None:
    name = get_str(get_dict(f, "mark", required=True), "name", required=True) or ""
    marks = _marks(b)
    if direction is Direction.CLIENT:
        marks.pending.append((name, b.agent_audio_ms))
        return
    if marks.flushed.get(name, 0) > 0:
        marks.flushed[name] -= 1  # returned by a clear: this audio was not played
        return
    for i, (pending, pos) in enumerate(marks.pending):
        if pending == name:
            marks.confirmed_ms = max(marks.confirmed_ms, pos)
            del marks.pending[: i + 1]
            return


def _clear(b: Builder, f: dict[str, Any]) -> None:
    marks = _marks(b)
    # Playback clock, bounded by the marks: at least the last echoed, short of the first pending.
    upper = marks.pending[0][1] if marks.pending else b.agent_audio_ms
    heard = min(max(b.agent_audio_ms_at(b.now_ms), marks.confirmed_ms), upper)
    b.cut_queue(heard, "twilio.clear")
    for name, _ in marks.pending:
        marks.flushed[name] = marks.flushed.get(name, 0) + 1
    marks.pending.clear()
    marks.confirmed_ms = heard


def handle(b: Builder, frame: dict[str, Any], direction: Direction) -> None:
    event = frame.get("event")
    if not isinstance(event, str):
        raise FrameProblem("missing_field:event")
    if event == "media":
        _media(b, frame, direction)
    elif event == "mark":
        _mark(b, frame, direction)
    elif event == "clear":
        _clear(b, frame)
    elif event == "start":
        _start(b, frame)
    elif event == "dtmf":
        get_dict(frame, "dtmf", required=True)
        b.marker("dtmf")  # the digit is not kept here: callers key in card numbers
    elif event == "stop":
        b.marker("twilio.stop")
    elif event != "connected":
        b.unknown_event(event[:128])
