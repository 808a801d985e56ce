"""OpenAI Realtime, beta (``realtime=v1``) and GA event names (wire-formats.md §1).

Joins everything on ``item_id``: user transcripts arrive late and out of order (§1.8), and the
truncate's ``audio_end_ms`` is relative to that item's audio (§1.3). In a bridged phone call the
Twilio leg carries the audio, so here audio deltas only say which item is speaking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from services.providers.builder import Builder, Playback
from services.providers.formats import (
    FrameProblem,
    b64_length,
    get_dict,
    get_int,
    get_list,
    get_str,
    openai_format,
)
from services.providers.timeline import ConfigChange, ProviderError, Speaker, Truncation, Usage

Handler = Callable[[Builder, dict[str, Any]], None]


def _item_id(frame: dict[str, Any]) -> str:
    value = get_str(frame, "item_id", required=True)
    if not value:
        raise FrameProblem("missing_field:item_id")
    return value


def _session(b: Builder, f: dict[str, Any]) -> None:
    s = get_dict(f, "session", required=True)
    audio = get_dict(s, "audio")
    a_in, a_out = get_dict(audio, "input"), get_dict(audio, "output")
    fin = openai_format(a_in.get("format", s.get("input_audio_format")))
    fout = openai_format(a_out.get("format", s.get("output_audio_format")))
    tools = s.get("tools")
    names = None
    if isinstance(tools, list):
        names = tuple(str(t.get("name", "")) for t in tools if isinstance(t, dict))
    voice = get_str(a_out, "voice") or get_str(s, "voice")
    b.configs.append(ConfigChange(b.now_ms, b.seq, f"openai.{f.get('type')}", fin, fout, voice,
                                  get_str(s, "model"), names))
    b.in_format = fin or b.in_format
    b.out_format = fout or b.out_format


def _append(b: Builder, f: dict[str, Any]) -> None:
    nbytes = b64_length(f.get("audio"), "audio")
    if not b.bridged:
        b.caller_audio(nbytes, b.in_format)


def _speech_started(b: Builder, f: dict[str, Any]) -> None:
    t = b.turn("caller", _item_id(f))
    start = get_int(f, "audio_start_ms")
    if start is not None:
        t.vad_start_ms = b.caller_time(start)
        t.clock_start_ms = b.provider_clock(start)


def _speech_stopped(b: Builder, f: dict[str, Any]) -> None:
    t = b.turn("caller", _item_id(f))
    end = get_int(f, "audio_end_ms")
    if end is not None:
        t.vad_end_ms = b.caller_time(end)
        t.clock_end_ms = b.provider_clock(end)


def _user_item(b: Builder, f: dict[str, Any]) -> None:
    b.turn("caller", _item_id(f))


def _item(b: Builder, f: dict[str, Any]) -> None:
    item = get_dict(f, "item", required=True)
    _item_body(b, item, get_str(f, "response_id"))


def _item_body(b: Builder, item: dict[str, Any], response_id: str | None) -> None:
    kind = get_str(item, "type")
    item_id = get_str(item, "id")
    if kind == "function_call":
        call_id = get_str(item, "call_id", required=True) or ""
        call = b.tool(call_id, get_str(item, "name") or "")
        args = get_str(item, "arguments")
        if args:
            call.arguments = args
        if get_str(item, "status") == "incomplete":
            call.cancelled = True
    elif kind == "function_call_output":
        call_id = get_str(item, "call_id", required=True) or ""
        b.tool_result(call_id, get_str(item, "output") or "")
    elif kind == "message" and item_id:
        role = get_str(item, "role")
        speaker: Speaker
        if role == "assistant":
            speaker = "agent"
        elif role == "user":
            speaker = "caller"
        else:
            return
        t = b.turn(speaker, item_id)
        t.response_id = t.response_id or response_id
        for part in get_list(item, "content"):
            if not isinstance(part, dict):
                raise FrameProblem("wrong_type:content")
            if part.get("type") in _TYPED:
                t.modality = "text"  # typed by the app (or a text-only answer), never spoken
            text = get_str(part, "transcript") or (
                get_str(part, "text") if part.get("type") in ("input_text", "text") else None)
            if text and t.transcript is None and speaker == "caller":
                t.transcript = text
            elif text and speaker == "agent" and not t.generated:
                t.generated.append(text)
        if get_str(item, "status") == "incomplete" and speaker == "agent":
            t.cancelled = True
    elif kind is None:
        raise FrameProblem("missing_field:item.type")


def _audio_delta(b: Builder, f: dict[str, Any]) -> None:
    item_id = _item_id(f)
    nbytes = b64_length(f.get("delta"), "delta")
    t = b.turn("agent", item_id)
    t.response_id = t.response_id or get_str(f, "response_id")
    b.current_agent = item_id
    if not b.bridged:
        b.agent_audio(nbytes, b.out_format, item_id)


def _text_delta(b: Builder, f: dict[str, Any]) -> None:
    t = b.turn("agent", _item_id(f))
    t.generated.append(get_str(f, "delta") or "")


def _text_done(b: Builder, f: dict[str, Any]) -> None:
    t = b.turn("agent", _item_id(f))
    t.transcript = get_str(f, "transcript", "text")


def _input_delta(b: Builder, f: dict[str, Any]) -> None:
    t = b.turn("caller", _item_id(f))
    t.generated.append(get_str(f, "delta") or "")


def _input_done(b: Builder, f: dict[str, Any]) -> None:
    t = b.turn("caller", _item_id(f))
    t.transcript = get_str(f, "transcript") or ""


def _input_failed(b: Builder, f: dict[str, Any]) -> None:
    b.turn("caller", _item_id(f)).status = "failed"


def _segment(b: Builder, f: dict[str, Any]) -> None:
    t = b.turn("caller", _item_id(f))
    t.generated.append(get_str(f, "text") or "")


def _args_delta(b: Builder, f: dict[str, Any]) -> None:
    t = b.tool(get_str(f, "call_id", required=True) or "", turn_id=None)
    t.arguments += get_str(f, "delta") or ""


def _args_done(b: Builder, f: dict[str, Any]) -> None:
    t = b.tool(get_str(f, "call_id", required=True) or "", get_str(f, "name") or "")
    t.arguments = get_str(f, "arguments") or t.arguments


def _truncate(b: Builder, f: dict[str, Any]) -> None:
    end = get_int(f, "audio_end_ms", required=True)
    item_id = _item_id(f)
    b.turn("agent", item_id)  # only assistant audio items can be truncated (§1.3)
    if b.bridged:  # the phone's marks decide what was heard; keep the model's claim on record
        b.truncations.append(Truncation(item_id, float(end or 0), b.now_ms, b.seq,
                                        f"openai.{f.get('type')}"))
        b.turn("agent", item_id).cut = True
        return
    b.cut_turn(item_id, float(end or 0), f"openai.{f.get('type')}")


def _response_done(b: Builder, f: dict[str, Any]) -> None:
    r = get_dict(f, "response", required=True)
    status = get_str(r, "status")
    rid = get_str(r, "id")
    for item in get_list(r, "output"):
        if not isinstance(item, dict):
            raise FrameProblem("wrong_type:output")
        _item_body(b, item, rid)
        item_id = get_str(item, "id")
        turn = b.turns.get(item_id or "")
        if turn is None or turn.speaker != "agent":
            if status == "cancelled" and item.get("type") == "function_call":
                b.tool(get_str(item, "call_id") or "").cancelled = True
            continue
        if status == "cancelled":
            turn.cancelled = True
        elif status == "failed":
            turn.status = "failed"
        elif status in ("completed", "incomplete") and turn.status == "in_progress":
            turn.status = "completed"
    usage = get_dict(r, "usage")
    if usage:
        b.usage.append(Usage(b.now_ms, b.seq, get_int(usage, "input_tokens"),
                             get_int(usage, "output_tokens"), get_int(usage, "total_tokens")))


def _error(b: Builder, f: dict[str, Any]) -> None:
    e = get_dict(f, "error")
    code, kind = e.get("code"), e.get("type")
    b.provider_errors.append(ProviderError(b.now_ms, b.seq, code if isinstance(code, str) else None,
                                           kind if isinstance(kind, str) else None))


def _playback(b: Builder, f: dict[str, Any]) -> None:
    """WebRTC: the server plays agent audio itself and says when (§1.6); the record holds no
    audio to place the turn by, so these arrival times are the playback clock."""
    rid = get_str(f, "response_id")
    if not rid:
        return
    state = b.playback.setdefault(rid, Playback())
    if f.get("type") == "output_audio_buffer.started":
        state.started_ms = b.now_ms if state.started_ms is None else state.started_ms
    elif state.ended_ms is None:
        state.ended_ms = b.now_ms


def _noop(b: Builder, f: dict[str, Any]) -> None:
    return None


_TYPED: Final = ("input_text", "text", "output_text")


_NOOP: Final = (
    "conversation.created", "input_audio_buffer.commit", "input_audio_buffer.clear",
    "input_audio_buffer.cleared", "input_audio_buffer.timeout_triggered", "response.create",
    "response.cancel", "response.created", "response.content_part.added",
    "response.content_part.done", "response.audio.done", "response.output_audio.done",
    "rate_limits.updated", "conversation.item.delete", "conversation.item.deleted",
    "conversation.item.retrieve", "conversation.item.retrieved",
    "output_audio_buffer.clear", "transcription_session.update", "transcription_session.updated",
    "input_audio_buffer.dtmf_event_received",
)

HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(_NOOP, _noop),
    "session.update": _session, "session.created": _session, "session.updated": _session,
    "input_audio_buffer.append": _append,
    "output_audio_buffer.started": _playback, "output_audio_buffer.stopped": _playback,
    "output_audio_buffer.cleared": _playback,
    "input_audio_buffer.speech_started": _speech_started,
    "input_audio_buffer.speech_stopped": _speech_stopped,
    "input_audio_buffer.committed": _user_item,
    "conversation.item.create": _item, "conversation.item.created": _item,
    "conversation.item.added": _item, "conversation.item.done": _item,
    "response.output_item.added": _item, "response.output_item.done": _item,
    "response.audio.delta": _audio_delta, "response.output_audio.delta": _audio_delta,
    "response.audio_transcript.delta": _text_delta,
    "response.output_audio_transcript.delta": _text_delta,
    "response.text.delta": _text_delta, "response.output_text.delta": _text_delta,
    "response.audio_transcript.done": _text_done,
    "response.output_audio_transcript.done": _text_done,
    "response.text.done": _text_done, "response.output_text.done": _text_done,
    "conversation.item.input_audio_transcription.delta": _input_delta,
    "conversation.item.input_audio_transcription.completed": _input_done,
    "conversation.item.input_audio_transcription.failed": _input_failed,
    "conversation.item.input_audio_transcription.segment": _segment,
    "response.function_call_arguments.delta": _args_delta,
    "response.function_call_arguments.done": _args_done,
    "conversation.item.truncate": _truncate, "conversation.item.truncated": _truncate,
    "response.done": _response_done,
    "error": _error,
}


def handle(b: Builder, frame: dict[str, Any]) -> None:
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise FrameProblem("missing_field:type")
    handler = HANDLERS.get(kind.strip())  # the spec's own DTMF example has a stray space
    if handler is None:
        b.unknown_event(kind[:128])
        return
    handler(b, frame)
