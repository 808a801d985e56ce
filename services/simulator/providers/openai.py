"""OpenAI Realtime over WebSocket, GA and beta event names (wire-formats.md §1).

Server VAD creates a response after each caller turn; the user transcript arrives after the next
response has started (joined on ``item_id``). A barge-in during generation cancels the response
(``status: cancelled``, ``reason: turn_detected``); during playback of a completed response it does
not. Either way the gateway truncates the item at the heard position (``conversation.item.truncate``
``audio_end_ms``) and the server confirms (``conversation.item.truncated``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas.envelope import Provider
from services.simulator import audio
from services.simulator.frames import (
    Codec,
    FrameList,
    Ids,
    agent_audio,
    b64,
    caller_track,
    chunks,
    cut_ms,
    generation_end,
    generation_times,
    text_pieces,
)
from services.simulator.script import Script, ToolCallSpec, Turn

AGENT_CHUNK_MS = 100
# Called for every agent audio delta: (turn, index, at_ms, encoded bytes). The Twilio bridge uses
# it to forward the audio to the phone.
AudioTap = Callable[[Turn, int, float, bytes], None]

TOOL_SCHEMA: dict[str, Any] = {
    "type": "function", "name": "lookup_account",
    "description": "Find the caller's account by phone and email.",
    "parameters": {"type": "object", "properties": {"phone": {"type": "string"},
                                                    "email": {"type": "string"}},
                   "required": ["phone"]},
}


@dataclass
class OpenAILeg:
    ga: bool = True
    codec: Codec = "pcm16"
    input_chunk_ms: int = 50
    agent_chunk_ms: int = AGENT_CHUNK_MS  # 20 for the benchmark's 20 ms frames both ways
    provider: Provider | None = None  # per-frame provider when bridged under a Twilio session
    audio_tap: AudioTap | None = None

    @property
    def rate(self) -> int:
        return 24000 if self.codec == "pcm16" else 8000

    def _names(self) -> dict[str, str]:
        if self.ga:
            return {"audio": "response.output_audio",
                    "transcript": "response.output_audio_transcript",
                    "item": "conversation.item.added", "part": "output_audio"}
        return {"audio": "response.audio", "transcript": "response.audio_transcript",
                "item": "conversation.item.created", "part": "audio"}

    def session_config(self) -> dict[str, Any]:
        if self.ga:
            fmt: dict[str, Any] = ({"type": "audio/pcm", "rate": 24000} if self.codec == "pcm16"
                                   else {"type": "audio/pcmu"})
            return {"type": "realtime", "model": "gpt-realtime", "output_modalities": ["audio"],
                    "instructions": "You are a billing assistant.", "tools": [TOOL_SCHEMA],
                    "audio": {"input": {"format": fmt,
                                        "transcription": {"model": "gpt-4o-transcribe"},
                                        "turn_detection": {"type": "server_vad",
                                                           "create_response": True,
                                                           "interrupt_response": True}},
                              "output": {"format": fmt, "voice": "marin"}}}
        return {"modalities": ["audio", "text"], "instructions": "You are a billing assistant.",
                "voice": "alloy", "input_audio_format": self.codec,
                "output_audio_format": self.codec,
                "input_audio_transcription": {"model": "whisper-1"},
                "turn_detection": {"type": "server_vad"}, "tools": [TOOL_SCHEMA]}

    def build(self, script: Script, out: FrameList) -> None:
        _Builder(self, script, out).run()


class _Builder:
    def __init__(self, leg: OpenAILeg, script: Script, out: FrameList) -> None:
        self.leg, self.script, self.out = leg, script, out
        self.ids = Ids(f"{script.seed}:openai")
        self.names = leg._names()
        self.last_item: str | None = None
        self.user_items: dict[int, str] = {}

    def server(self, at: float, frame: dict[str, Any]) -> None:
        frame.setdefault("event_id", self.ids("event_"))
        # event_id first, like the real server
        self.out.add(at, "server", {"type": frame.pop("type"), **frame}, self.leg.provider)

    def client(self, at: float, frame: dict[str, Any]) -> None:
        self.out.add(at, "client", frame, self.leg.provider)

    def run(self) -> None:
        leg, script = self.leg, self.script
        session = {"id": self.ids("sess_"), "object": "realtime.session", **leg.session_config()}
        self.server(0, {"type": "session.created", "session": session})
        self.client(1, {"type": "session.update", "session": leg.session_config()})
        self.server(30, {"type": "session.updated", "session": session})
        self._input_audio()
        tools = {t.after_turn: t for t in script.tool_calls}
        agent_turns = [t for t in script.turns if t.speaker == "agent"]
        for turn in script.turns:
            if turn.speaker == "caller":
                self._caller(turn, next((a for a in agent_turns if a.index > turn.index), None))
            else:
                self._agent(turn, tools.get(turn.index), first=turn is agent_turns[0])

    def _input_audio(self) -> None:
        samples = caller_track(self.script, self.leg.rate)
        data = audio.encode(samples, self.leg.codec)
        size = audio.bytes_per_ms(self.leg.codec, self.leg.rate) * self.leg.input_chunk_ms
        for offset, piece in chunks(data, size):
            at = offset / audio.bytes_per_ms(self.leg.codec, self.leg.rate)
            self.client(at, {"type": "input_audio_buffer.append", "audio": b64(piece)})

    def _caller(self, turn: Turn, reply: Turn | None) -> None:
        item = self.ids("item_")
        self.user_items[turn.index] = item
        self.server(turn.start_ms, {"type": "input_audio_buffer.speech_started",
                                    "audio_start_ms": turn.start_ms, "item_id": item})
        self.server(turn.end_ms, {"type": "input_audio_buffer.speech_stopped",
                                  "audio_end_ms": turn.end_ms, "item_id": item})
        self.server(turn.end_ms + 5, {"type": "input_audio_buffer.committed",
                                      "previous_item_id": self.last_item, "item_id": item})
        self.server(turn.end_ms + 10, {
            "type": self.names["item"], "previous_item_id": self.last_item,
            "item": {"id": item, "type": "message", "status": "completed", "role": "user",
                     "content": [{"type": "input_audio", "transcript": None}]}})
        self.last_item = item
        # Transcription runs asynchronously: it lands after the reply's response.created.
        late = (reply.start_ms - 40) if reply else turn.end_ms + 400
        for piece in text_pieces(turn.text, 3):
            self.server(late, {"type": "conversation.item.input_audio_transcription.delta",
                               "item_id": item, "content_index": 0, "delta": piece})
        self.server(late + 1, {"type": "conversation.item.input_audio_transcription.completed",
                               "item_id": item, "content_index": 0, "transcript": turn.text})

    def _agent(self, turn: Turn, tool: ToolCallSpec | None, first: bool) -> None:
        n = self.names
        t0 = turn.start_ms - 80
        if first:
            self.client(t0 - 20, {"type": "response.create"})
        resp, item = self.ids("resp_"), self.ids("item_")
        common = {"response_id": resp, "item_id": item, "output_index": 0, "content_index": 0}
        self.server(t0, {"type": "response.created", "response": {
            "object": "realtime.response", "id": resp, "status": "in_progress", "output": []}})
        msg = {"id": item, "object": "realtime.item", "type": "message", "status": "in_progress",
               "role": "assistant", "content": []}
        self.server(t0 + 1, {"type": "response.output_item.added", "response_id": resp,
                             "output_index": 0, "item": msg})
        self.server(t0 + 2, {"type": n["item"], "previous_item_id": self.last_item, "item": msg})
        self.last_item = item
        self.server(t0 + 3, {"type": "response.content_part.added", **common,
                             "part": {"type": n["part"], "transcript": ""}})
        data = agent_audio(self.script, turn, self.leg.rate, self.leg.codec)
        size = audio.bytes_per_ms(self.leg.codec, self.leg.rate) * self.leg.agent_chunk_ms
        pieces = list(chunks(data, size))
        texts = text_pieces(turn.text, max(1, len(pieces) // 3))
        text_at = generation_times(turn, len(texts))
        for i, ((_, piece), at) in enumerate(zip(pieces, generation_times(turn, len(pieces)),
                                                  strict=True)):
            while texts and text_at[0] <= at:
                text_at.pop(0)
                self.server(at, {"type": f"{n['transcript']}.delta", **common,
                                 "delta": texts.pop(0)})
            self.server(at, {"type": f"{n['audio']}.delta", **common, "delta": b64(piece)})
            if self.leg.audio_tap:
                self.leg.audio_tap(turn, i, at, piece)
        for piece_text in texts:
            self.server(text_at.pop(0), {"type": f"{n['transcript']}.delta", **common,
                                         "delta": piece_text})
        cancelled = turn.status == "interrupted"
        # A cancelled response closes just after the barge-in that cancelled it.
        end = generation_end(turn) + (5 if cancelled else 0)
        status = "incomplete" if cancelled else "completed"
        content = [{"type": n["part"], "transcript": turn.text}]
        self.server(end, {"type": f"{n['audio']}.done", **common})
        self.server(end, {"type": f"{n['transcript']}.done", **common, "transcript": turn.text})
        self.server(end, {"type": "response.content_part.done", **common,
                          "part": {"type": n["part"], "transcript": turn.text}})
        done_msg = {**msg, "status": status, "content": content}
        self.server(end, {"type": "response.output_item.done", "response_id": resp,
                          "output_index": 0, "item": done_msg})
        output: list[dict[str, Any]] = [done_msg]
        if tool is not None:
            end = tool.at_ms
            output.append(self._function_call(resp, tool))
        details = ({"type": "cancelled", "reason": "turn_detected"} if cancelled else None)
        self.server(end + 20, {"type": "response.done", "response": {
            "object": "realtime.response", "id": resp,
            "status": "cancelled" if cancelled else "completed",
            "status_details": details, "output": output}})
        self.server(end + 25, {"type": "rate_limits.updated", "rate_limits": [
            {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5}]})
        if turn.status != "completed":
            cut = cut_ms(turn)
            self.client(cut + 10, {"type": "conversation.item.truncate", "item_id": item,
                                   "content_index": 0, "audio_end_ms": turn.heard_ms})
            self.server(cut + 30, {"type": "conversation.item.truncated", "item_id": item,
                                   "content_index": 0, "audio_end_ms": turn.heard_ms})
        if tool is not None:
            self._tool_result(tool)

    def _function_call(self, resp: str, tool: ToolCallSpec) -> dict[str, Any]:
        at, item = tool.at_ms, self.ids("item_")
        call = {"id": item, "object": "realtime.item", "type": "function_call",
                "status": "in_progress", "name": tool.name, "call_id": tool.call_id,
                "arguments": ""}
        self.server(at, {"type": "response.output_item.added", "response_id": resp,
                         "output_index": 1, "item": call})
        self.server(at + 1, {"type": self.names["item"], "previous_item_id": self.last_item,
                             "item": call})
        self.last_item = item
        common = {"response_id": resp, "item_id": item, "output_index": 1,
                  "call_id": tool.call_id}
        half = len(tool.arguments) // 2
        for j, delta in enumerate((tool.arguments[:half], tool.arguments[half:])):
            self.server(at + 5 + j, {"type": "response.function_call_arguments.delta", **common,
                                     "delta": delta})
        done: dict[str, Any] = {"type": "response.function_call_arguments.done", **common,
                                "arguments": tool.arguments}
        if self.leg.ga:
            done["name"] = tool.name
        self.server(at + 10, done)
        finished = {**call, "status": "completed", "arguments": tool.arguments}
        self.server(at + 15, {"type": "response.output_item.done", "response_id": resp,
                              "output_index": 1, "item": finished})
        return finished

    def _tool_result(self, tool: ToolCallSpec) -> None:
        item = {"type": "function_call_output", "call_id": tool.call_id, "output": tool.result}
        self.client(tool.result_ms, {"type": "conversation.item.create",
                                     "previous_item_id": self.last_item, "item": item})
        out_id = self.ids("item_")
        self.server(tool.result_ms + 20, {
            "type": self.names["item"], "previous_item_id": self.last_item,
            "item": {"id": out_id, "object": "realtime.item", "status": "completed", **item}})
        self.last_item = out_id
        self.client(tool.result_ms + 1, {"type": "response.create"})


def build(script: Script, *, ga: bool = True) -> FrameList:
    out = FrameList()
    OpenAILeg(ga=ga, input_chunk_ms=_input_chunk_ms(script)).build(script, out)
    return out


def _input_chunk_ms(script: Script) -> int:
    """Gateways differ in how much audio they append at once (20-100 ms); vary it by seed."""
    return [40, 50, 100][sum(map(ord, script.seed)) % 3]
