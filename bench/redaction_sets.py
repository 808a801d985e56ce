"""Labelled redaction sets and how a redaction is scored against them (used by redaction_eval).

Two formats are read into one :class:`Case`:

- the project's set (``tests/fixtures/redaction/eval.jsonl``): ``{"id", "agent", "text",
  "pii": [{"type", "value"}]}`` (the value is found in the text);
- the blind set (``tests/fixtures/redaction/blind/utterances.jsonl``): ``{"id", "domain",
  "speaker", "context", "text", "entities": [{"type", "start", "end", "value", ...}]}``.

Leak recall: share of labelled values with no identifying part left after redaction: for a
number, fewer than 4 of its digits (for shorter values, none) outside the redacted spans; for
words, no word of 2+ letters (connectives aside) and no 3 spelled letters left. Over-redaction:
share of words of PII-free utterances that a redaction touches. Per-entity precision and recall
on spans are computed by presidio-evaluator's ``SpanEvaluator`` (see ``presidio_scores``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.redaction.spoken import number_runs, tokenize

_WORD = re.compile(r"[A-Za-z0-9']+")
# Connective words inside a value that identify nobody on their own.
_FILLER = frozenset({
    "dot", "at", "underscore", "dash", "hyphen", "as", "in", "for", "and", "the", "of", "with",
    "double", "triple", "apostrophe", "then", "com", "net", "org", "edu", "co", "uk", "io", "ru",
    "it's", "street", "st", "avenue", "ave", "road", "rd", "drive", "lane", "court", "way",
    "boulevard", "blvd", "terrace", "circle", "parkway", "apartment", "apt", "unit", "suite",
    "number", "north", "south", "east", "west", "a", "p", "gmail", "yahoo", "outlook",
    "hotmail", "icloud", "aol", "mail", "protonmail", "plus", "slash", "colon", "www", "http",
    "https", "capital", "point",
})
Span = tuple[int, int]
# Our entity names → the set's (Presidio's) names, for per-entity scoring. Types with no
# counterpart are generic ("ID"): presidio-evaluator does not count them as a wrong type.
TO_PRESIDIO = {
    "DATE_OF_BIRTH": "DATE_TIME", "STREET_ADDRESS": "LOCATION", "ZIP_CODE": "LOCATION",
    "ABA_ROUTING_NUMBER": "US_BANK_NUMBER", "ID_NUMBER": "ID", "SPELLED_TEXT": "ID",
    "CVV": "CREDIT_CARD", "CARD_EXPIRY": "CREDIT_CARD",
}


@dataclass(frozen=True)
class Value:
    type: str
    start: int
    end: int
    country: bool = False  # a LOCATION labelled as a country


@dataclass(frozen=True)
class Case:
    id: str
    agent: str | None
    speaker: str | None
    text: str
    values: list[Value] = field(default_factory=list)

    @property
    def half(self) -> str:
        digest = int(hashlib.sha256(self.id.encode()).hexdigest()[:8], 16)
        return "dev" if digest % 2 == 0 else "held-out"


def _case(raw: dict[str, Any]) -> Case:
    text = raw["text"]
    if "entities" in raw:
        values = [Value(e["type"], e["start"], e["end"], e.get("granularity") == "country")
                  for e in raw["entities"]]
        return Case(raw["id"], raw.get("context") or None, raw.get("speaker"), text, values)
    values = []
    for item in raw["pii"]:
        lo = text.index(item["value"])
        values.append(Value(item["type"], lo, lo + len(item["value"])))
    return Case(raw["id"], raw.get("agent"), "caller", text, values)


def load(path: Path) -> list[Case]:
    return [_case(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def _uncovered(text: str, lo: int, hi: int, spans: Sequence[Span]) -> str:
    chars = list(text[lo:hi])
    for s, e in spans:
        for k in range(max(s, lo), min(e, hi)):
            chars[k - lo] = " "
    return "".join(chars)


def _digits(text: str) -> int:
    return sum(len(r.digits) for r in number_runs(tokenize(text)))


def leaked(text: str, value: Value, spans: Sequence[Span]) -> bool:
    rest = _uncovered(text, value.start, value.end, spans)
    total = _digits(text[value.start:value.end])
    left = _digits(rest)
    if total and left >= min(4, total):
        return True
    words = [w for w in _WORD.findall(rest) if not any(ch.isdigit() for ch in w)]
    toks = tokenize(rest)
    number_words = {t.low for r in number_runs(toks) for t in toks[r.first:r.last + 1]}
    name_words = [w for w in words if len(w) >= 2 and w.lower() not in _FILLER
                  and w.lower() not in number_words]
    letters = [w for w in words if len(w) == 1]
    return bool(name_words) or len(letters) >= 3


def over_redacted(text: str, spans: Sequence[Span]) -> tuple[int, int]:
    words = list(_WORD.finditer(text))
    hit = sum(1 for m in words if any(s < m.end() and m.start() < e for s, e in spans))
    return hit, len(words)


def class_of(value: Value) -> str:
    return "LOCATION(country)" if value.country else value.type


def score(cases: Sequence[Case], found: Sequence[Sequence[Span]]) -> dict[str, Any]:
    """Leak recall overall and per class, over-redaction of the PII-free utterances."""
    per: dict[str, list[int]] = {}
    removed = total_words = 0
    for case, spans in zip(cases, found, strict=True):
        if not case.values:
            hit, n = over_redacted(case.text, spans)
            removed, total_words = removed + hit, total_words + n
        for v in case.values:
            row = per.setdefault(class_of(v), [0, 0])
            row[0] += 1
            row[1] += leaked(case.text, v, spans)
    values = sum(r[0] for r in per.values())
    leaks = sum(r[1] for r in per.values())
    return {"recall": 1 - leaks / values if values else 1.0, "values": values,
            "over_redaction": removed / total_words if total_words else 0.0,
            "clean_words": total_words, "removed_words": removed,
            "classes": {k: {"values": n, "recall": 1 - bad / n} for k, (n, bad) in per.items()}}


def presidio_scores(cases: Sequence[Case],
                    found: Sequence[Sequence[tuple[int, int, str]]]) -> dict[str, Any]:
    """Per-entity span precision and recall by presidio-evaluator's ``SpanEvaluator`` (IoU ≥
    0.5 on characters), predicted types mapped to the set's names through ``TO_PRESIDIO``."""
    import pandas as pd
    from presidio_evaluator.evaluation import SpanEvaluator

    rows: list[dict[str, Any]] = []
    for case, spans in zip(cases, found, strict=True):
        for m in re.finditer(r"\S+", case.text):
            gold = next((TO_PRESIDIO.get(v.type, v.type) for v in case.values
                         if v.start < m.end() and m.start() < v.end), "O")
            pred = next((TO_PRESIDIO.get(t, t) for s, e, t in spans
                         if s < m.end() and m.start() < e), "O")
            rows.append({"sentence_id": case.id, "token": m.group(), "annotation": gold,
                         "prediction": pred, "start_indices": m.start()})
    df = pd.DataFrame(rows, columns=["sentence_id", "token", "annotation", "prediction",
                                     "start_indices"])
    evaluator = SpanEvaluator(iou_threshold=0.5, skip_words=[])
    result = evaluator.calculate_score_on_df(results_df=df)
    return {"precision": result.pii_precision, "recall": result.pii_recall,
            "per_entity": {k: {"precision": result.entity_precision_dict.get(k),
                               "recall": r, "n": result.n_dict.get(k)}
                           for k, r in result.entity_recall_dict.items()}}
