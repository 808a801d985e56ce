"""ElevenLabs Agents WebSocket (wire-formats.md §4).

Formats are announced in ``conversation_initiation_metadata``; caller audio goes up as bare
``{"user_audio_chunk": ...}`` frames; ``event_id`` is an integer sequence per conversation. On a
barge-in the server sends ``interruption`` with the last agent event id (the client drops queued
audio up to it), exactly at the cut, then ``agent_response_correction`` with the heard text.
"""

from __future__ import annotations

import json
from typing import Any

from services.simulator import audio
from services.simulator.frames import (
    FrameList,
    agent_audio,
    b64,
    caller_track,
    chunks,
    cut_ms,
    generation_times,
    heard_text,
)
from services.simulator.script import Script, ToolCallSpec, Turn

_PENDING = -1
IN_RATE = 16000
IN_CHUNK_MS, OUT_CHUNK_MS = 250, 200  # the ElevenLabs SDKs send ~250 ms of microphone audio
PING_EVERY_MS = 5000


def output_rate(script: Script) -> int:
    return [16000, 24000][sum(map(ord, script.seed)) % 2]


class _Builder:
    def __init__(self, script: Script, out: FrameList) -> None:
        self.script, self.out = script, out

    def next_id(self) -> int:
        return _PENDING  # numbered in time order by _number_events

    def server(self, at: float, frame: dict[str, Any]) -> None:
        self.out.add(at, "server", frame)

    def client(self, at: float, frame: dict[str, Any]) -> None:
        self.out.add(at, "client", frame)

    def run(self) -> None:
        rate = output_rate(self.script)
        self.client(0, {"type": "conversation_initiation_client_data",
                        "dynamic_variables": {"account_type": "standard"}})
        self.server(60, {"type": "conversation_initiation_metadata",
                         "conversation_initiation_metadata_event": {
                             "conversation_id": "conv_" + self.script.seed.replace(":", "_"),
                             "agent_output_audio_format": f"pcm_{rate}",
                             "user_input_audio_format": f"pcm_{IN_RATE}"}})
        per_ms = audio.bytes_per_ms("pcm16", IN_RATE)
        data = audio.pcm16le(caller_track(self.script, IN_RATE))
        for offset, piece in chunks(data, per_ms * IN_CHUNK_MS):
            self.client(offset / per_ms, {"user_audio_chunk": b64(piece)})
        tools = {t.after_turn: t for t in self.script.tool_calls}
        # Event ids must rise with time, so interleave pings while walking the turns in order.
        pings = iter(range(PING_EVERY_MS, self.script.duration_ms, PING_EVERY_MS))
        next_ping = next(pings, None)
        for turn in self.script.turns:
            while next_ping is not None and next_ping < turn.start_ms:
                self._ping(next_ping)
                next_ping = next(pings, None)
            if turn.speaker == "caller":
                # final transcript only, shortly after the caller stops
                self.server(turn.end_ms + 300, {"type": "user_transcript",
                                                "user_transcription_event": {
                                                    "user_transcript": turn.text,
                                                    "event_id": self.next_id()}})
            else:
                self._agent(turn, rate, tools.get(turn.index))
        while next_ping is not None:
            self._ping(next_ping)
            next_ping = next(pings, None)

    def _ping(self, at: float) -> None:
        event_id = self.next_id()
        self.server(at, {"type": "ping", "ping_event": {"event_id": event_id, "ping_ms": 45}})
        self.client(at + 45, {"type": "pong", "event_id": event_id})  # renumbered with the ping

    def _agent(self, turn: Turn, rate: int, tool: ToolCallSpec | None) -> None:
        per_ms = audio.bytes_per_ms("pcm16", rate)
        pieces = list(chunks(agent_audio(self.script, turn, rate, "pcm16"), per_ms * OUT_CHUNK_MS))
        times = generation_times(turn, len(pieces))
        # agent_response is "sent with the first audio chunk"
        self.server(times[0], {"type": "agent_response", "agent_response_event": {
            "agent_response": turn.text, "event_id": self.next_id()}})
        for (_, piece), at in zip(pieces, times, strict=True):
            self.server(at, {"type": "audio", "audio_event": {"audio_base_64": b64(piece),
                                                              "event_id": self.next_id()}})
        if turn.status != "completed":
            cut = cut_ms(turn)
            self.server(cut, {"type": "interruption",
                              "interruption_event": {"event_id": _PENDING}})
            self.server(cut + 40, {"type": "agent_response_correction",
                                   "agent_response_correction_event": {
                                       "original_agent_response": turn.text,
                                       "corrected_agent_response": heard_text(turn),
                                       "event_id": self.next_id()}})
        if tool is not None:
            self.server(tool.at_ms, {"type": "client_tool_call", "client_tool_call": {
                "tool_name": tool.name, "tool_call_id": tool.call_id,
                "parameters": json.loads(tool.arguments), "event_id": self.next_id()}})
            self.client(tool.result_ms, {"type": "client_tool_result",
                                         "tool_call_id": tool.call_id, "result": tool.result,
                                         "is_error": False})


def _number_events(out: FrameList) -> None:
    """Give server events their integer ids in time order; an interruption names the last agent
    audio event sent before it, a pong echoes its ping."""
    counter = last_audio = last_ping = 0
    for frame in out.sorted():
        p = frame.payload
        if p.get("type") == "pong":
            p["event_id"] = last_ping
            continue
        if p.get("type") == "interruption":
            p["interruption_event"]["event_id"] = last_audio
            continue
        body = p.get("client_tool_call") if p.get("type") == "client_tool_call" else next(
            (v for k, v in p.items() if k.endswith("_event") and isinstance(v, dict)), None)
        if frame.direction == "server" and body is not None and body.get("event_id") == _PENDING:
            counter += 1
            body["event_id"] = counter
            if p["type"] == "audio":
                last_audio = counter
            elif p["type"] == "ping":
                last_ping = counter


def build(script: Script) -> FrameList:
    out = FrameList()
    _Builder(script, out).run()
    _number_events(out)
    return out
