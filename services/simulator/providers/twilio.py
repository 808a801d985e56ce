"""A phone call: Twilio Media Streams bridged to OpenAI Realtime GA with G.711 μ-law (§2, §1).

The session's provider is ``twilio-media``; the model leg's frames carry ``openai-realtime``.
As in Twilio's own sample gateway, inbound 20 ms μ-law frames are forwarded unchanged as
``input_audio_buffer.append`` and every ``response.output_audio.delta`` is forwarded unchanged as
an outbound ``media`` followed by a ``mark``. Twilio echoes a mark when its audio has played; on a
barge-in the gateway sends ``clear`` and Twilio echoes the marks still pending at once, so the
echoes before the ``clear`` say what the caller heard.
"""

from __future__ import annotations

from typing import Any

from schemas.envelope import Provider
from services.simulator import audio
from services.simulator.frames import FrameList, Ids, b64, caller_track, chunks, cut_ms
from services.simulator.providers.openai import AGENT_CHUNK_MS, OpenAILeg
from services.simulator.script import Script, Turn

FRAME_MS = 20
RATE = 8000


class _Phone:
    def __init__(self, script: Script, out: FrameList) -> None:
        self.script, self.out = script, out
        ids = Ids(f"{script.seed}:twilio")
        self.stream_sid, self.call_sid = ids("MZ", 32), ids("CA", 32)
        self.account_sid = ids("AC", 32)
        self.seq = 0
        self.chunk = 0
        self.pending: dict[int, list[tuple[float, str]]] = {}  # turn -> (play end, mark name)

    def from_twilio(self, at: float, frame: dict[str, Any], numbered: bool = True) -> None:
        if numbered:
            self.seq += 1
            frame = {"event": frame.pop("event"), "sequenceNumber": str(self.seq), **frame}
        self.out.add(at, "server", frame)

    def to_twilio(self, at: float, frame: dict[str, Any]) -> None:
        self.out.add(at, "client", frame)

    def start(self) -> None:
        self.from_twilio(0, {"event": "connected", "protocol": "Call", "version": "1.0.0"},
                         numbered=False)
        self.from_twilio(0, {"event": "start", "start": {
            "accountSid": self.account_sid, "streamSid": self.stream_sid,
            "callSid": self.call_sid, "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": RATE, "channels": 1},
            "customParameters": {"agent": "billing", "simulated": "true"}},
            "streamSid": self.stream_sid})

    def inbound(self) -> None:
        data = audio.ulaw_encode(caller_track(self.script, RATE))
        size = audio.bytes_per_ms("g711_ulaw", RATE) * FRAME_MS
        for offset, piece in chunks(data, size):
            at = offset / audio.bytes_per_ms("g711_ulaw", RATE)
            self.chunk += 1
            self.from_twilio(at, {"event": "media", "media": {
                "track": "inbound", "chunk": str(self.chunk), "timestamp": str(int(at)),
                "payload": b64(piece)}, "streamSid": self.stream_sid})

    def forward(self, turn: Turn, index: int, at: float, piece: bytes) -> None:
        """An OpenAI audio delta, sent on to the phone with a mark after it."""
        name = f"t{turn.index}-{index}"
        self.to_twilio(at, {"event": "media", "streamSid": self.stream_sid,
                            "media": {"payload": b64(piece)}})
        self.to_twilio(at, {"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})
        played_until = turn.start_ms + (index * AGENT_CHUNK_MS) + len(piece) / 8
        self.pending.setdefault(turn.index, []).append((played_until, name))

    def playback(self) -> None:
        """Mark echoes: on playback completion, or all at once right after a ``clear``."""
        for turn in self.script.turns:
            if turn.speaker != "agent":
                continue
            cut = cut_ms(turn)
            for played_until, name in self.pending.get(turn.index, []):
                echo_at = played_until if played_until <= cut else cut + 12
                self.from_twilio(echo_at, {"event": "mark", "streamSid": self.stream_sid,
                                           "mark": {"name": name}})
            if turn.status != "completed":
                self.to_twilio(cut + 10, {"event": "clear", "streamSid": self.stream_sid})

    def dtmf_and_stop(self) -> None:
        consent = next(t for t in self.script.turns if t.speaker == "caller")
        self.from_twilio(consent.end_ms + 20, {"event": "dtmf", "streamSid": self.stream_sid,
                                               "dtmf": {"track": "inbound_track", "digit": "1"}})
        self.from_twilio(self.script.duration_ms, {"event": "stop", "stop": {
            "accountSid": self.account_sid, "callSid": self.call_sid},
            "streamSid": self.stream_sid})


def build(script: Script) -> FrameList:
    out = FrameList()
    phone = _Phone(script, out)
    phone.start()
    phone.inbound()  # before the model leg, so each media frame precedes its forwarded append
    OpenAILeg(ga=True, codec="g711_ulaw", input_chunk_ms=FRAME_MS,
              provider=Provider.OPENAI_REALTIME, audio_tap=phone.forward).build(script, out)
    phone.playback()
    phone.dtmf_and_stop()
    return out
