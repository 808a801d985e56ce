"""The bench's load synthesizes only the part of a script it plays, and plays the same frames."""

from __future__ import annotations

import pytest

from services.bench.load import plan_session
from services.simulator.frames import Frame, FrameList, system_frames
from services.simulator.providers.openai import OpenAILeg
from services.simulator.script import build_script


def whole_script_frames(seed: str) -> list[Frame]:
    script = build_script(seed)
    out = FrameList()
    OpenAILeg(ga=True, codec="pcm16", input_chunk_ms=20, agent_chunk_ms=20).build(script, out)
    for frame in system_frames(script):
        out.add_frame(frame)
    return out.sorted()


@pytest.mark.parametrize("seed", ["bench:0", "bench:3"])
def test_a_plan_is_the_whole_scripts_frames_up_to_its_duration(seed: str) -> None:
    frames = whole_script_frames(seed)
    for duration_s in (0.5, 6, 10, 25, 47, 200):
        plan = plan_session(seed, duration_s)
        assert plan.frames == [f for f in frames if f.at_ms < duration_s * 1000]
        assert plan.script == build_script(seed)  # session.started describes the whole call
