"""Voxledger's generic vocabulary for custom ASR + LLM + TTS pipelines (``schemas.custom_events``).

The pipeline reports playback itself (``playback.stopped/truncated`` with ``heard_ms`` in the
turn's own audio), so the cut is as precise as OpenAI's ``audio_end_ms``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from schemas import custom_events as ce
from services.providers.builder import Builder
from services.providers.formats import FrameProblem, b64_length, make_format


def _reason(exc: ValidationError) -> str:
    err = exc.errors(include_input=False, include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"]) or "frame"
    return f"invalid_field:{loc[:64]}:{err['type']}"


def handle(b: Builder, frame: dict[str, Any]) -> None:
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise FrameProblem("missing_field:type")
    if kind not in ce.CUSTOM_EVENT_TYPES:
        b.unknown_event(kind[:128])
        return
    try:
        ev = ce.parse_custom_event(frame)
    except ValidationError as exc:
        raise FrameProblem(_reason(exc)) from None
    if isinstance(ev, ce.AudioInput | ce.AudioOutput):
        nbytes = b64_length(ev.audio, "audio")
        fmt = make_format(ev.codec, ev.sample_rate, ev.channels)
        if isinstance(ev, ce.AudioInput):
            b.caller_audio(nbytes, fmt, ev.turn_id)
        else:
            turn_id = ev.turn_id or b.current_agent or b.new_id("custom-agent")
            b.current_agent = turn_id
            b.turn("agent", turn_id)
            b.agent_audio(nbytes, fmt, turn_id)
    elif isinstance(ev, ce.TranscriptUserPartial):
        b.turn("caller", ev.turn_id).partial = ev.text
    elif isinstance(ev, ce.TranscriptUserFinal):
        b.turn("caller", ev.turn_id).transcript = ev.text
    elif isinstance(ev, ce.TranscriptAgentPartial):
        b.turn("agent", ev.turn_id).generated.append(ev.text)
    elif isinstance(ev, ce.TranscriptAgentFinal):
        b.turn("agent", ev.turn_id).transcript = ev.text
    elif isinstance(ev, ce.PlaybackStarted):
        b.turn("agent", ev.turn_id)
        b.current_agent = ev.turn_id
    elif isinstance(ev, ce.PlaybackStopped):
        t = b.turn("agent", ev.turn_id)
        if t.cut_ms is None:
            t.cut_ms = float(ev.heard_ms)
        if t.status == "in_progress":
            t.status = "completed"
    elif isinstance(ev, ce.PlaybackTruncated):
        b.turn("agent", ev.turn_id)
        b.cut_turn(ev.turn_id, float(ev.heard_ms), "custom.playback.truncated")
    elif isinstance(ev, ce.ToolCall):
        b.tool(ev.call_id, ev.name, ev.turn_id).arguments = ev.arguments
    elif isinstance(ev, ce.ToolResult):
        b.tool_result(ev.call_id, ev.output, ev.is_error)
    elif isinstance(ev, ce.TurnStarted | ce.TurnEnded):
        agent = ev.speaker == "agent"
        t = b.turn("agent" if agent else "caller", ev.turn_id)
        if agent:
            b.current_agent = ev.turn_id if isinstance(ev, ce.TurnStarted) else None
        if isinstance(ev, ce.TurnEnded) and t.status == "in_progress":
            t.status = "completed"
