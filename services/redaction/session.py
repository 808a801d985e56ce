"""One call, many turns: a name or place said once is redacted wherever it comes back.

Callers give their name once ("it's Maria Gonzalez") and the agent repeats part of it later
("thanks, Maria"), or spell it ("K O W A L S K I") after saying it; ASR writes the later mention
in lower case where no cue surrounds it. After every turn is analysed, the words of each PERSON
and LOCATION finding (and the word a spelling spells) are looked for in every turn of the session,
and each further occurrence becomes a finding of the same type. Stop words and words that are
also ordinary English ("Will", "Grace") are never propagated. Pure logic.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.redaction.recognizers.base import Finding, View
from services.redaction.recognizers.names import _NOT_NAME, PARTICLES, TRAPS

DETECTOR = "session"
_TYPES = ("PERSON", "LOCATION")
_MIN_LEN = 3


def _stop() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | _NOT_NAME | PARTICLES | TRAPS


def terms(views: Sequence[View], found: Sequence[Sequence[Finding]]) -> dict[str, str]:
    """Lower-cased words (and spelled-out words) of the session's names and places → type."""
    stop = _stop()
    out: dict[str, str] = {}
    for view, findings in zip(views, found, strict=True):
        for f in findings:
            covered = [t for t in view.tokens if f.start <= t.start and t.end <= f.end]
            if f.entity_type in _TYPES and not f.detector.endswith(":country"):
                for t in covered:
                    if len(t.text) >= _MIN_LEN and t.text.replace("'", "").isalpha() \
                            and t.low not in stop:
                        out.setdefault(t.low, f.entity_type)
            if f.detector == "spelled":
                word = _spelled(covered)
                if len(word) >= _MIN_LEN and word not in stop:
                    out.setdefault(word, "PERSON")
    return out


def _spelled(tokens: Sequence[object]) -> str:
    letters: list[str] = []
    repeat = 1
    for t in tokens:
        low = getattr(t, "low", "")
        if low == "double":
            repeat = 2
        elif len(low) == 1 and low.isalpha():
            letters.append(low * repeat)
            repeat = 1
    return "".join(letters)


def repeated(views: Sequence[View], found: Sequence[Sequence[Finding]]) -> list[list[Finding]]:
    """Findings for further mentions of the session's names and places, per turn."""
    known = terms(views, found)
    out: list[list[Finding]] = []
    for view, findings in zip(views, found, strict=True):
        spans = [(f.start, f.end) for f in findings]
        extra = [Finding(known[t.low], t.start, t.end, 0.75, DETECTOR) for t in view.tokens
                 if t.low in known and not any(s <= t.start and t.end <= e for s, e in spans)]
        out.append(extra)
    return out


_COMMON = 4.0  # a surname this common is not taken alone ("white", "young")


def within(views: Sequence[View], found: Sequence[Sequence[Finding]]) -> list[list[Finding]]:
    """Outside a session: the surname of a person found in a line, said again alone in that
    line ("directed by ignat konovalov and starring konovalov"); only a name's last word (or
    its word with an owner's "'s": "crnić's cautionary tales"), and only one uncommon in
    English, so a company taken for a person ("sumitomo shoji") spreads no further."""
    from services.redaction.recognizers.lexicon import zipf

    stop = _stop()
    out: list[list[Finding]] = []
    for view, findings in zip(views, found, strict=True):
        covered: set[int] = set()  # token indices inside a finding: linear in their length
        last: set[str] = set()
        for f in findings:
            at = view.token_range(f.start, f.end)
            if at is None:
                continue
            covered.update(range(at[0], at[1] + 1))
            # "stanko crnić's cautionary tales": the name ends at its owner's "'s"
            end = next((k for k in range(at[0], at[1] + 1)
                        if view.tokens[k].low.endswith("'s")), at[1])
            word = view.tokens[end].low.removesuffix("'s")
            if f.entity_type == "PERSON" and len(word) >= _MIN_LEN and word.isalpha() \
                    and word not in stop and zipf(word) < _COMMON:
                last.add(word)
        out.append([Finding("PERSON", t.start, t.start + len(t.low.removesuffix("'s")), 0.75,
                            DETECTOR) for k, t in enumerate(view.tokens)
                    if k not in covered and t.low.removesuffix("'s") in last])
    return out
