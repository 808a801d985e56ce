"""The bench's load synthesizes only the part of a script it plays, and plays the same frames."""

from __future__ import annotations

import pytest

from services.bench.load import plan_session, schedule
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


def test_sessions_start_spread_over_the_arrivals_and_each_ends_its_duration_after_its_start(
        ) -> None:
    plans = [plan_session("bench:0", 3), plan_session("bench:1", 3)]
    timeline = schedule(plans, 5, 3.0, 10.0)
    assert timeline == sorted(timeline)
    for i in range(5):
        mine = [(due, j) for due, s, j in timeline if s == i]
        frames = plans[i % 2].frames
        assert [j for _, j in mine] == list(range(len(frames) + 1))  # every frame, then the end
        start = 2.0 * i  # 10 s over 5 sessions
        assert mine[0][0] == start + frames[0].at_ms / 1000
        assert mine[-1][0] == start + 3.0  # the end, after every frame
        assert all(due < start + 3.0 for due, _ in mine[:-1])


def test_sessions_started_together_without_arrivals() -> None:
    plans = [plan_session("bench:0", 1)]
    timeline = schedule(plans, 3, 1.0, 0.0)
    end = len(plans[0].frames)  # a session's last item, its end
    ends = [due for due, s, j in timeline if j == end]
    assert ends == [1.0, 1.0, 1.0]
    assert timeline[-3:] == [(1.0, 0, end), (1.0, 1, end), (1.0, 2, end)]
