"""Combine findings from every detector into non-overlapping spans. Pure logic.

Overlapping findings become one span covering both (a partial redaction leaks the rest of the
value), typed by the more confident detector.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.redaction.recognizers.base import Finding


def merge(findings: Iterable[Finding], threshold: float) -> list[Finding]:
    kept = sorted((f for f in findings if f.score >= threshold), key=lambda f: (f.start, -f.end))
    out: list[Finding] = []
    for f in kept:
        if out and f.start < out[-1].end:
            prev = out[-1]
            best = prev if prev.score >= f.score else f
            out[-1] = Finding(best.entity_type, prev.start, max(prev.end, f.end),
                              max(prev.score, f.score), best.detector)
        else:
            out.append(f)
    return out
