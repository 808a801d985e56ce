"""Gemini Live (``BidiGenerateContent``), camelCase on the wire (wire-formats.md §3).

Caller audio goes up as ``realtimeInput.audio`` PCM16 16 kHz; agent audio comes down as
``serverContent.modelTurn.parts[].inlineData`` PCM16 24 kHz. There is no truncate: on a barge-in the
server sends ``interrupted`` and the heard part is the playback position at that moment, so the
simulator sends ``interrupted`` exactly at the cut. Transcriptions are independent of turn order.
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
    generation_end,
    generation_times,
    text_pieces,
)
from services.simulator.script import Script, ToolCallSpec, Turn

IN_RATE, OUT_RATE = 16000, 24000
IN_CHUNK_MS, OUT_CHUNK_MS = 40, 120
MODEL = "models/gemini-live-2.5-flash-preview"


class _Builder:
    def __init__(self, script: Script, out: FrameList) -> None:
        self.script, self.out = script, out

    def server(self, at: float, frame: dict[str, Any]) -> None:
        self.out.add(at, "server", frame)

    def client(self, at: float, frame: dict[str, Any]) -> None:
        self.out.add(at, "client", frame)

    def run(self) -> None:
        self.client(0, {"setup": {
            "model": MODEL, "generationConfig": {"responseModalities": ["AUDIO"]},
            "systemInstruction": {"parts": [{"text": "You are a billing assistant."}]},
            "tools": [{"functionDeclarations": [{"name": "lookup_account",
                                                 "description": "Find the caller's account."}]}],
            "inputAudioTranscription": {}, "outputAudioTranscription": {}}})
        self.server(40, {"setupComplete": {}})
        first = next(t for t in self.script.turns if t.speaker == "agent")
        self.client(first.start_ms - 100, {"clientContent": {"turns": [
            {"role": "user", "parts": [{"text": "Greet the caller."}]}], "turnComplete": True}})
        samples = caller_track(self.script, IN_RATE)
        per_ms = audio.bytes_per_ms("pcm16", IN_RATE)
        for offset, piece in chunks(audio.pcm16le(samples), per_ms * IN_CHUNK_MS):
            self.client(offset / per_ms, {"realtimeInput": {"audio": {
                "data": b64(piece), "mimeType": f"audio/pcm;rate={IN_RATE}"}}})
        tools = {t.after_turn: t for t in self.script.tool_calls}
        for turn in self.script.turns:
            if turn.speaker == "caller":
                self._caller(turn)
            else:
                self._agent(turn, tools.get(turn.index))

    def _caller(self, turn: Turn) -> None:
        pieces = text_pieces(turn.text, 3)
        for i, piece in enumerate(pieces):
            at = turn.start_ms + turn.duration_ms * (i + 1) / len(pieces) + 250
            self.server(at, {"serverContent": {"inputTranscription": {
                "text": piece, **({"finished": True} if i == len(pieces) - 1 else {})}}})

    def _agent(self, turn: Turn, tool: ToolCallSpec | None) -> None:
        data = agent_audio(self.script, turn, OUT_RATE, "pcm16")
        per_ms = audio.bytes_per_ms("pcm16", OUT_RATE)
        pieces = list(chunks(data, per_ms * OUT_CHUNK_MS))
        texts = text_pieces(turn.text, max(1, len(pieces) // 2))
        times = generation_times(turn, len(pieces))
        for i, ((_, piece), at) in enumerate(zip(pieces, times, strict=True)):
            self.server(at, {"serverContent": {"modelTurn": {"parts": [{"inlineData": {
                "mimeType": f"audio/pcm;rate={OUT_RATE}", "data": b64(piece)}}]}}})
            if i % 2 == 0 and texts:
                self.server(at, {"serverContent": {"outputTranscription": {"text": texts.pop(0)}}})
        for rest in texts:
            self.server(times[-1], {"serverContent": {"outputTranscription": {"text": rest}}})
        usage = {"promptTokenCount": 120, "responseTokenCount": len(pieces) * 3,
                 "totalTokenCount": 120 + len(pieces) * 3}
        if turn.status != "interrupted":
            self.server(generation_end(turn), {"serverContent": {"generationComplete": True}})
        if tool is not None:
            self._tool(tool)
        if turn.status == "completed":
            # The model waits for realtime playback before it reports the turn complete.
            self.server(turn.end_ms, {"serverContent": {"turnComplete": True},
                                      "usageMetadata": usage})
        else:
            cut = cut_ms(turn)
            self.server(cut, {"serverContent": {"interrupted": True}})
            self.server(cut + 5, {"serverContent": {"turnComplete": True}, "usageMetadata": usage})

    def _tool(self, tool: ToolCallSpec) -> None:
        call_id = tool.call_id
        self.server(tool.at_ms, {"toolCall": {"functionCalls": [
            {"id": call_id, "name": tool.name, "args": json.loads(tool.arguments)}]}})
        self.client(tool.result_ms, {"toolResponse": {"functionResponses": [
            {"id": call_id, "name": tool.name, "response": json.loads(tool.result)}]}})


def build(script: Script) -> FrameList:
    out = FrameList()
    _Builder(script, out).run()
    return out
