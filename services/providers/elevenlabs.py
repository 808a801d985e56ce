"""ElevenLabs Agents WebSocket (wire-formats.md §4).

Payloads nest under ``<type>_event`` (not uniformly); the user's audio is a bare
``{"user_audio_chunk": ...}``. Agent audio carries an integer ``event_id``: after an
``interruption`` every chunk with ``event_id`` ≤ the interruption's is dropped, exactly as the
official SDK does, and ``agent_response_correction`` says what text was actually heard.
"""

from __future__ import annotations

from typing import Any, Final

from services.providers.builder import Builder, TurnState
from services.providers.formats import (
    FrameProblem,
    b64_length,
    elevenlabs_format,
    get_dict,
    get_int,
    get_str,
    to_json,
)
from services.providers.timeline import ConfigChange, ProviderError

_NOOP: Final = frozenset({
    "ping", "pong", "vad_score", "internal_tentative_agent_response", "agent_response_metadata",
    "asr_initiation_metadata", "user_activity", "contextual_update", "user_message",
    "agent_response_complete", "mcp_tool_call", "mcp_connection_status", "guardrail_triggered",
    "dtmf_request", "internal_turn_probability", "context_usage",
    "agent_tool_response_full_payload",
})


def _agent(b: Builder) -> TurnState:
    if b.current_agent is None:
        b.current_agent = b.new_id("el-agent")
    b.state["el.last_agent"] = b.current_agent
    return b.turn("agent", b.current_agent)


def _metadata(b: Builder, f: dict[str, Any]) -> None:
    m = get_dict(f, "conversation_initiation_metadata_event", required=True)
    fin = elevenlabs_format(m.get("user_input_audio_format"))
    fout = elevenlabs_format(m.get("agent_output_audio_format"))
    b.configs.append(ConfigChange(b.now_ms, b.seq, "elevenlabs.metadata", fin, fout))
    b.in_format, b.out_format = fin or b.in_format, fout or b.out_format


def _client_data(b: Builder, f: dict[str, Any]) -> None:
    override = get_dict(f, "conversation_config_override")
    voice = get_str(get_dict(override, "tts"), "voice_id")
    b.configs.append(ConfigChange(b.now_ms, b.seq, "elevenlabs.client_data", voice=voice))


def _audio(b: Builder, f: dict[str, Any]) -> None:
    event = get_dict(f, "audio_event", required=True)
    nbytes = b64_length(event.get("audio_base_64"), "audio_base_64")
    event_id = get_int(event, "event_id")
    cutoff = b.state.get("el.interrupt_id")
    late = isinstance(cutoff, int) and event_id is not None and event_id <= cutoff
    if late:
        # Belongs to the interrupted response: never played. Keep it on that turn.
        last = b.state.get("el.last_agent")
        b.agent_audio(nbytes, b.out_format, last if isinstance(last, str) else None, dropped=True)
        return
    t = _agent(b)
    if not b.bridged:
        b.agent_audio(nbytes, b.out_format, t.turn_id)


def _agent_response(b: Builder, f: dict[str, Any]) -> None:
    text = get_str(get_dict(f, "agent_response_event", required=True), "agent_response") or ""
    t = _agent(b)
    if t.transcript is not None:  # a second response without audio in between
        b.current_agent = None
        t = _agent(b)
    t.transcript = text


def _response_part(b: Builder, f: dict[str, Any]) -> None:
    part = get_dict(f, "text_response_part", required=True)
    if part.get("type") == "delta":
        _agent(b).generated.append(get_str(part, "text") or "")


def _correction(b: Builder, f: dict[str, Any]) -> None:
    c = get_dict(f, "agent_response_correction_event", required=True)
    last = b.state.get("el.last_agent")
    t = b.turn("agent", last) if isinstance(last, str) else _agent(b)
    if t.transcript is None:  # the correction is the first we hear of this response
        t.transcript = get_str(c, "original_agent_response")
    t.heard_text = get_str(c, "corrected_agent_response")
    t.cut = True


def _interruption(b: Builder, f: dict[str, Any]) -> None:
    event_id = get_int(get_dict(f, "interruption_event", required=True), "event_id",
                       required=True)
    prior = b.state.get("el.interrupt_id")
    b.state["el.interrupt_id"] = max(event_id or 0, prior if isinstance(prior, int) else 0)
    if b.current_agent is not None:
        t = b.turn("agent", b.current_agent)
        b.cut_now("elevenlabs.interruption")
        t.cut = True
    b.current_agent = None


def _user_transcript(b: Builder, f: dict[str, Any], final: bool) -> None:
    key = "user_transcription_event" if final else "tentative_user_transcription_event"
    text = get_str(get_dict(f, key, required=True), "user_transcript") or ""
    if b.current_user is None:
        b.current_user = b.new_id("el-user")
    t = b.turn("caller", b.current_user)
    if final:
        t.transcript = text
        b.current_user = None
        b.current_agent = None  # the next agent audio answers this
    else:
        t.partial = text


def _tool_call(b: Builder, f: dict[str, Any]) -> None:
    c = get_dict(f, "client_tool_call", required=True)
    call_id = get_str(c, "tool_call_id", required=True) or ""
    t = b.tool(call_id, get_str(c, "tool_name") or "", b.current_agent)
    t.arguments = to_json(c.get("parameters") or {})


def _tool_result(b: Builder, f: dict[str, Any]) -> None:
    call_id = get_str(f, "tool_call_id", required=True) or ""
    result = f.get("result")
    text = result if isinstance(result, str) else to_json(result)
    b.tool_result(call_id, text, f.get("is_error") is True)


def _server_tool(b: Builder, f: dict[str, Any], key: str) -> None:
    c = get_dict(f, key, required=True)
    t = b.tool(get_str(c, "tool_call_id", required=True) or "", get_str(c, "tool_name") or "")
    if key == "agent_tool_response":
        t.ended_ms, t.is_error = b.now_ms, c.get("is_error") is True


def handle(b: Builder, frame: dict[str, Any]) -> None:
    kind = frame.get("type")
    if kind is None and "user_audio_chunk" in frame:
        b.caller_audio(b64_length(frame["user_audio_chunk"], "user_audio_chunk"), b.in_format)
        return
    if not isinstance(kind, str):
        raise FrameProblem("missing_field:type")
    if kind in _NOOP:
        return
    if kind == "user_transcript" or kind == "tentative_user_transcript":
        _user_transcript(b, frame, kind == "user_transcript")
    elif kind in ("agent_tool_request", "agent_tool_response"):
        _server_tool(b, frame, kind)
    elif kind in ("error", "client_error"):
        b.provider_errors.append(ProviderError(b.now_ms, b.seq, None, kind))
    elif kind in _HANDLERS:
        _HANDLERS[kind](b, frame)
    else:
        b.unknown_event(kind[:128])


_HANDLERS: Final = {
    "conversation_initiation_metadata": _metadata,
    "conversation_initiation_client_data": _client_data,
    "audio": _audio,
    "agent_response": _agent_response,
    "agent_chat_response_part": _response_part,
    "agent_response_correction": _correction,
    "interruption": _interruption,
    "client_tool_call": _tool_call,
    "client_tool_result": _tool_result,
}
