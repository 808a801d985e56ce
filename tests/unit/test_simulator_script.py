"""Simulator scripts: deterministic per seed, varied across seeds, every situation present."""

from __future__ import annotations

import json
import re

import pytest

from services.simulator.script import build_script

SEEDS = [f"openai:{n}:0" for n in range(8)]


def test_same_seed_same_script() -> None:
    assert build_script("x:1:0") == build_script("x:1:0")


def test_seeds_vary() -> None:
    texts = {tuple(t.text for t in build_script(s).turns) for s in SEEDS}
    timings = {tuple(t.start_ms for t in build_script(s).turns) for s in SEEDS}
    assert len(texts) > 1 and len(timings) == len(SEEDS)


@pytest.mark.parametrize("seed", SEEDS)
def test_spoken_pii_in_caller_turns(seed: str) -> None:
    caller = " ".join(t.text for t in build_script(seed).turns if t.speaker == "caller")
    assert re.search(r"\b\d{3} \d{3} \d{4}\b", caller), "phone as digits"
    assert re.search(r"\b(\d{4} ){3}\d{4}\b", caller), "card as digits"
    digit_words = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
    assert re.search(rf"(?:{digit_words} ){{15}}{digit_words}", caller), "card as words"
    assert re.search(r"\b(?:[A-Z] ){3,}[A-Z]\b", caller), "spelled letters"
    assert re.search(r" dot \w+ at \w+ dot com", caller), "spoken email"
    assert re.search(r"\d+ \w+ (Street|Avenue|Road|Drive|Boulevard)", caller), "address"
    assert re.search(r"born on \w+ [\w-]+, (19|20)\d\d", caller), "date of birth"


@pytest.mark.parametrize("seed", SEEDS)
def test_barge_ins_tool_call_consent_and_pause(seed: str) -> None:
    script = build_script(seed)
    agents = [t for t in script.turns if t.speaker == "agent"]
    zero = [t for t in agents if t.heard_ms == 0]
    assert zero and zero[0].status == "interrupted" and zero[0].duration_ms > 0
    cut_later = [t for t in agents if t.status == "truncated"]
    assert cut_later and 0 < (cut_later[0].heard_ms or 0) < cut_later[0].duration_ms
    for cut in zero + cut_later:
        barge = script.turns[cut.index + 1]
        assert barge.speaker == "caller"
        assert barge.start_ms == cut.start_ms + (cut.heard_ms or 0)
    for turn in agents:
        if turn.status == "completed":
            assert turn.heard_ms == turn.duration_ms
    [tool] = script.tool_calls
    assert "let me check that" in script.turns[tool.after_turn].text.lower()
    assert script.turns[tool.after_turn].end_ms < tool.at_ms < tool.result_ms
    json.loads(tool.arguments), json.loads(tool.result)
    kinds = [m.type for m in script.system_events]
    assert "consent.granted" in kinds and "recording.paused" in kinds
    assert kinds.index("recording.paused") < kinds.index("recording.resumed")
    assert max(t.end_ms for t in script.turns if t.speaker == "caller") <= script.duration_ms
    assert all(t.marker_ms + 50 <= t.duration_ms for t in script.turns)
