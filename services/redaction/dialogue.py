"""Reading CLI input as a dialogue: who speaks each line, and what the agent asked last.

Lines prefixed ``agent:`` or ``caller:`` (also ``user:``/``assistant:``) say who speaks; without
a prefix, speakers alternate starting with the agent. An empty line ends a dialogue. Pure logic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.redaction.results import Utterance

_PREFIX = re.compile(r"^\s*(agent|assistant|bot|caller|user|customer)\s*:\s*", re.IGNORECASE)
_AGENT = frozenset({"agent", "assistant", "bot"})


@dataclass(frozen=True, slots=True)
class Line:
    prefix: str  # kept verbatim in the output
    utterance: Utterance


class Dialogue:
    def __init__(self, *, context: bool) -> None:
        self._context = context
        self._agent_next = True
        self._last_agent: str | None = None

    def read(self, line: str) -> Line:
        if not self._context:
            return Line("", Utterance(line))
        if not line.strip():
            self._agent_next, self._last_agent = True, None
            return Line("", Utterance(line))
        m = _PREFIX.match(line)
        prefix, body = (m.group(0), line[m.end():]) if m else ("", line)
        is_agent = m.group(1).lower() in _AGENT if m else self._agent_next
        self._agent_next = not is_agent
        if is_agent:
            self._last_agent = body
            return Line(prefix, Utterance(body, speaker="agent"))
        return Line(prefix, Utterance(body, previous_agent=self._last_agent, speaker="caller"))

    @property
    def ended(self) -> bool:
        """True right after an empty line: the next line starts a new dialogue."""
        return self._last_agent is None and self._agent_next
