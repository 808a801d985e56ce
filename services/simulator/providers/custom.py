"""A custom ASR + LLM + TTS pipeline speaking Voxledger's vocabulary (``schemas.custom_events``).

Caller audio is streamed as ``audio.input`` (PCM16 16 kHz, 20 ms); the ASR emits growing partials
and a final; the LLM streams ``transcript.agent.partial`` deltas and a final; TTS audio goes out as
``audio.output`` (PCM16 24 kHz); the player reports ``playback.started`` and then
``playback.stopped`` or, on a barge-in, ``playback.truncated`` with the heard position.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from schemas.custom_events import (
    AudioInput,
    AudioOutput,
    PlaybackStarted,
    PlaybackStopped,
    PlaybackTruncated,
    ToolCall,
    ToolResult,
    TranscriptAgentFinal,
    TranscriptAgentPartial,
    TranscriptUserFinal,
    TranscriptUserPartial,
    TurnEnded,
    TurnStarted,
)
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
IN_CHUNK_MS, OUT_CHUNK_MS = 20, 100


def _frame(model: BaseModel) -> dict[str, Any]:
    # Frames are built through the contract models, so the simulator cannot drift from them.
    return model.model_dump(mode="json", exclude_none=True)


class _Builder:
    def __init__(self, script: Script, out: FrameList) -> None:
        self.script, self.out = script, out

    def run(self) -> None:
        per_ms = audio.bytes_per_ms("pcm16", IN_RATE)
        data = audio.pcm16le(caller_track(self.script, IN_RATE))
        for offset, piece in chunks(data, per_ms * IN_CHUNK_MS):
            self.out.add(offset / per_ms, "client", _frame(AudioInput(
                audio=b64(piece), codec="pcm16", sample_rate=IN_RATE, channels=1)))
        tools = {t.after_turn: t for t in self.script.tool_calls}
        for turn in self.script.turns:
            if turn.speaker == "caller":
                self._caller(turn)
            else:
                self._agent(turn, tools.get(turn.index))

    def _caller(self, turn: Turn) -> None:

        tid = turn.turn_id
        self.out.add(turn.start_ms, "server", _frame(TurnStarted(turn_id=tid, speaker="user")))
        so_far = ""
        pieces = text_pieces(turn.text, 4)
        for i, piece in enumerate(pieces[:-1]):
            so_far += piece
            at = turn.start_ms + turn.duration_ms * (i + 1) / len(pieces)
            self.out.add(at, "server", _frame(TranscriptUserPartial(text=so_far, turn_id=tid)))
        self.out.add(turn.end_ms + 200, "server",
                     _frame(TranscriptUserFinal(text=turn.text, turn_id=tid)))
        self.out.add(turn.end_ms + 200, "server", _frame(TurnEnded(turn_id=tid, speaker="user")))

    def _agent(self, turn: Turn, tool: ToolCallSpec | None) -> None:

        tid = turn.turn_id
        self.out.add(turn.start_ms - 30, "server",
                     _frame(TurnStarted(turn_id=tid, speaker="agent")))
        texts = text_pieces(turn.text, 4)
        for text, at in zip(texts, generation_times(turn, len(texts)), strict=True):
            self.out.add(at - 20, "server", _frame(TranscriptAgentPartial(text=text, turn_id=tid)))
        self.out.add(generation_end(turn), "server",
                     _frame(TranscriptAgentFinal(text=turn.text, turn_id=tid)))
        per_ms = audio.bytes_per_ms("pcm16", OUT_RATE)
        pieces = list(chunks(agent_audio(self.script, turn, OUT_RATE, "pcm16"),
                             per_ms * OUT_CHUNK_MS))
        times = generation_times(turn, len(pieces))
        for (_, piece), at in zip(pieces, times, strict=True):
            self.out.add(at, "server", _frame(AudioOutput(
                audio=b64(piece), codec="pcm16", sample_rate=OUT_RATE, channels=1, turn_id=tid)))
        self.out.add(times[0], "client", _frame(PlaybackStarted(turn_id=tid)))
        heard = turn.heard_ms if turn.heard_ms is not None else turn.duration_ms
        if turn.status == "completed":
            self.out.add(turn.end_ms, "client",
                         _frame(PlaybackStopped(turn_id=tid, heard_ms=heard)))
        else:
            self.out.add(cut_ms(turn), "client",
                         _frame(PlaybackTruncated(turn_id=tid, heard_ms=heard)))
        self.out.add(turn.start_ms + heard, "server", _frame(TurnEnded(turn_id=tid,
                                                                       speaker="agent")))
        if tool is not None:
            self.out.add(tool.at_ms, "server", _frame(ToolCall(
                call_id=tool.call_id, name=tool.name, arguments=tool.arguments, turn_id=tid)))
            self.out.add(tool.result_ms, "client", _frame(ToolResult(
                call_id=tool.call_id, output=tool.result, is_error=False)))


def build(script: Script) -> FrameList:
    out = FrameList()
    _Builder(script, out).run()
    return out
