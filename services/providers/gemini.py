"""Gemini Live ``BidiGenerateContent`` (wire-formats.md §3).

Messages are discriminated by their top-level key, in camelCase on the wire and snake_case from
the Python SDK, so every lookup accepts both. There are no turn or item ids: turns are delimited by
``turnComplete`` / ``interrupted`` and numbered here. There is no truncate: on ``interrupted`` the
heard position is the playback position at that moment.
"""

from __future__ import annotations

from typing import Any

from services.providers.builder import Builder, TurnState
from services.providers.formats import (
    FrameProblem,
    b64_length,
    get_dict,
    get_int,
    get_list,
    get_str,
    mime_format,
    to_json,
)
from services.providers.timeline import ConfigChange, Usage

_KNOWN = {"setupComplete", "setup_complete", "goAway", "go_away", "sessionResumptionUpdate",
          "session_resumption_update", "voiceActivity", "voice_activity", "clientContent",
          "client_content", "voiceActivityDetectionSignal"}


def _agent(b: Builder) -> TurnState:
    if b.current_agent is None:
        b.current_agent = b.new_id("gemini-agent")
    return b.turn("agent", b.current_agent)


def _user(b: Builder) -> TurnState:
    if b.current_user is None:
        b.current_user = b.new_id("gemini-user")
    return b.turn("caller", b.current_user)


def _server_content(b: Builder, sc: dict[str, Any]) -> None:
    turn = get_dict(sc, "modelTurn", "model_turn")
    for part in get_list(turn, "parts"):
        if not isinstance(part, dict):
            raise FrameProblem("wrong_type:parts")
        blob = get_dict(part, "inlineData", "inline_data")
        if blob:
            nbytes = b64_length(blob.get("data"), "inlineData.data")
            fmt = mime_format(blob.get("mimeType", blob.get("mime_type")), 24000)
            t = _agent(b)
            if not b.bridged:
                b.agent_audio(nbytes, fmt, t.turn_id)
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            _agent(b).generated.append(part["text"])
    out = get_dict(sc, "outputTranscription", "output_transcription")
    if out:
        _agent(b).generated.append(get_str(out, "text") or "")
    inp = get_dict(sc, "inputTranscription", "input_transcription")
    if inp:
        user = _user(b)
        user.generated.append(get_str(inp, "text") or "")
        if inp.get("finished") is True:
            user.transcript = "".join(user.generated)
            b.current_user = None
    if sc.get("interrupted") is True:
        if b.current_agent is not None:
            t = b.turn("agent", b.current_agent)
            b.cut_now("gemini.interrupted")
            t.cut = True
            # "interrupted > turn_complete" without generationComplete: generation was cancelled
            t.cancelled = not t.generation_done
        _end_turn(b)
    done = sc.get("generationComplete", sc.get("generation_complete")) is True
    if done and b.current_agent is not None:
        b.turn("agent", b.current_agent).generation_done = True
    if sc.get("turnComplete", sc.get("turn_complete")) is True:
        if b.current_agent is not None:
            t = b.turn("agent", b.current_agent)
            t.status = "completed" if t.status == "in_progress" else t.status
        _end_turn(b)


def _end_turn(b: Builder) -> None:
    b.current_agent = None
    if b.current_user is not None:
        user = b.turns[b.current_user]
        user.transcript = user.transcript or "".join(user.generated)
        b.current_user = None


def _realtime_input(b: Builder, ri: dict[str, Any]) -> None:
    blobs = [get_dict(ri, "audio")] if ri.get("audio") is not None else []
    blobs += get_list(ri, "mediaChunks", "media_chunks")
    for blob in blobs:
        if not isinstance(blob, dict):
            raise FrameProblem("wrong_type:mediaChunks")
        mime = blob.get("mimeType", blob.get("mime_type"))
        if isinstance(mime, str) and not mime.startswith("audio"):
            continue  # video frames share the field
        nbytes = b64_length(blob.get("data"), "audio.data")
        if not b.bridged:
            b.caller_audio(nbytes, mime_format(mime, 16000))  # natively 16 kHz in


def _tool_call(b: Builder, tc: dict[str, Any]) -> None:
    for call in get_list(tc, "functionCalls", "function_calls"):
        if not isinstance(call, dict):
            raise FrameProblem("wrong_type:functionCalls")
        call_id = get_str(call, "id") or b.new_id("gemini-call")  # optional in the SDK types
        t = b.tool(call_id, get_str(call, "name") or "", b.current_agent)
        t.arguments = to_json(call.get("args") or {})


def _tool_response(b: Builder, tr: dict[str, Any]) -> None:
    for resp in get_list(tr, "functionResponses", "function_responses"):
        if not isinstance(resp, dict):
            raise FrameProblem("wrong_type:functionResponses")
        call_id = get_str(resp, "id", required=True) or ""
        b.tool(call_id, get_str(resp, "name") or "")
        b.tool_result(call_id, to_json(resp.get("response")))


def _cancel(b: Builder, tc: dict[str, Any]) -> None:
    for call_id in get_list(tc, "ids"):
        if not isinstance(call_id, str):
            raise FrameProblem("wrong_type:ids")
        b.tool(call_id).cancelled = True


def _setup(b: Builder, s: dict[str, Any]) -> None:
    names: list[str] = []
    for tool in get_list(s, "tools"):
        if isinstance(tool, dict):
            for decl in get_list(tool, "functionDeclarations", "function_declarations"):
                if isinstance(decl, dict) and isinstance(decl.get("name"), str):
                    names.append(decl["name"])
    gen = get_dict(s, "generationConfig", "generation_config")
    speech = get_dict(gen, "speechConfig", "speech_config") or get_dict(s, "speechConfig")
    voice = get_dict(get_dict(speech, "voiceConfig", "voice_config"),
                     "prebuiltVoiceConfig", "prebuilt_voice_config")
    b.configs.append(ConfigChange(b.now_ms, b.seq, "gemini.setup", None, None,
                                  get_str(voice, "voiceName", "voice_name"),
                                  get_str(s, "model"), tuple(names)))


def _usage(b: Builder, u: dict[str, Any]) -> None:
    b.usage.append(Usage(b.now_ms, b.seq, get_int(u, "promptTokenCount"),
                         get_int(u, "responseTokenCount"), get_int(u, "totalTokenCount")))


def handle(b: Builder, frame: dict[str, Any]) -> None:
    if not frame:
        raise FrameProblem("empty_frame")
    seen = False
    for keys, fn in (
        (("serverContent", "server_content"), _server_content),
        (("realtimeInput", "realtime_input"), _realtime_input),
        (("toolCall", "tool_call"), _tool_call),
        (("toolResponse", "tool_response"), _tool_response),
        (("toolCallCancellation", "tool_call_cancellation"), _cancel),
        (("setup",), _setup),
        (("usageMetadata", "usage_metadata"), _usage),
    ):
        body = get_dict(frame, *keys)
        if body or any(k in frame for k in keys):
            fn(b, body)
            seen = True
    # Vertex sends transcriptions at the top level rather than inside serverContent.
    top: dict[str, Any] = {k: frame[k] for k in ("inputTranscription", "outputTranscription") if k in frame}
    if top:
        _server_content(b, top)
        seen = True
    if not seen and not (set(frame) & _KNOWN):
        b.unknown_event(str(next(iter(frame)))[:128])
