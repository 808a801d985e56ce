"""What every speech-aware recognizer sees and returns.

A :class:`View` is built once per utterance (tokens, number runs, dialogue context) and shared by
all recognizers, so the text is tokenized and its numbers read exactly once. A :class:`Finding`
carries the entity type and the character span in the original text, never the value.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from services.redaction.context import NO_CONTEXT, Context, Topic, topics
from services.redaction.spoken import NumberRun, Token, number_runs, tokenize


@dataclass(frozen=True, slots=True)
class Finding:
    entity_type: str
    start: int
    end: int
    score: float
    detector: str


@dataclass(frozen=True, slots=True)
class View:
    text: str
    tokens: list[Token]
    runs: list[NumberRun]
    context: Context
    # "caller", "agent" or None (unknown: treated as the caller, the safe side). Some classes
    # (places, groups) are personal in what a caller says about themselves, not in the agent's
    # script ("our office in Chicago").
    speaker: str | None = None

    @classmethod
    def of(cls, text: str, context: Context = NO_CONTEXT, speaker: str | None = None) -> View:
        tokens = tokenize(text)
        return cls(text, tokens, number_runs(tokens), context, speaker)

    @property
    def is_agent(self) -> bool:
        return self.speaker == "agent"

    def token_range(self, start: int, end: int) -> tuple[int, int] | None:
        """(first, last) index of the tokens overlapping ``[start, end)``, by binary search."""
        first = bisect_right(self.tokens, start, key=_end)
        last = bisect_left(self.tokens, end, key=_start) - 1
        return (first, last) if first <= last else None

    def words_before(self, index: int, limit: int = 8, floor: int = 0) -> str:
        """Lowercased text of up to ``limit`` tokens before token ``index`` (not before floor)."""
        lo = max(floor, index - limit)
        return " ".join(t.low for t in self.tokens[lo:index])

    def local_topics(self, index: int, limit: int = 8, floor: int = 0) -> frozenset[Topic]:
        return topics(self.words_before(index, limit, floor))

    def topics_at(self, index: int, floor: int = 0) -> frozenset[Topic]:
        """Cues right before a value win; otherwise what the agent just asked for."""
        return self.local_topics(index, floor=floor) or self.context.asked


def _start(t: Token) -> int:
    return t.start


def _end(t: Token) -> int:
    return t.end


Recognizer = Callable[[View], list[Finding]]
