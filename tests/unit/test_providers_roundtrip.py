"""simulate → interpret gives back the script, for every simulated provider and 5 seeds.

Frames come from the simulator's pure builders (no NATS), stamped as the recorder stamps them.
Heard durations must match within one audio frame of the provider (Twilio sends 20 ms frames).
"""

from __future__ import annotations

import pytest

from services.providers import Timeline, interpret
from services.simulator.providers import PROFILES
from services.simulator.script import Script, build_script
from tests.unit.providers_support import env

SEEDS = [f"roundtrip-{i}" for i in range(5)]
FRAME_MS = 20.0
# ElevenLabs and the custom vocabulary do not say whether generation finished before the cut,
# so a cancelled generation and a finished one cut by playback both read as a cut.
NO_GENERATION_SIGNAL = {"elevenlabs", "custom"}


def simulate(name: str, seed: str) -> tuple[Script, Timeline]:
    profile = PROFILES[name]
    script = build_script(seed)
    envs = []
    for frame in profile.build(script).sorted():
        envs.append(env(len(envs), frame.provider or profile.provider, frame.direction,
                        frame.payload, frame.at_ms, frame.type_))
    return script, interpret(envs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(PROFILES))
def test_interpretation_gives_back_the_script(name: str, seed: str) -> None:
    script, tl = simulate(name, seed)
    assert tl.frame_errors == () and tl.unknown == ()
    assert tl.bridged is (name == "twilio")
    got = [t for t in tl.turns if t.speaker == "agent"]
    want = [t for t in script.turns if t.speaker == "agent"]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert (g.transcript or g.generated_text) == w.text
        assert g.heard_ms is not None and w.heard_ms is not None
        assert abs(g.heard_ms - w.heard_ms) <= FRAME_MS, (g.turn_id, g.heard_ms, w.heard_ms)
        assert abs(g.start_ms - w.start_ms) <= FRAME_MS
        if name in NO_GENERATION_SIGNAL and w.status != "completed":
            assert g.status in ("truncated", "interrupted")
        else:
            assert g.status == w.status
    callers = [t for t in tl.turns if t.speaker == "caller"]
    assert [t.transcript for t in callers] == [t.text for t in script.turns
                                               if t.speaker == "caller"]
    assert [(c.call_id, c.name, c.arguments, c.result, c.cancelled) for c in tl.tool_calls] == [
        (s.call_id, s.name, s.arguments, s.result, False) for s in script.tool_calls]


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_wrong_script_is_noticed(name: str) -> None:
    """Guard against a vacuous round trip: another seed's script must not match."""
    _, tl = simulate(name, SEEDS[0])
    other = build_script(SEEDS[1])
    heard = [t.heard_ms for t in tl.turns if t.speaker == "agent"]
    assert heard != [t.heard_ms for t in other.turns if t.speaker == "agent"]
