"""Redaction quality and speed: Voxledger vs stock Presidio on the labelled voice-agent set.

    .venv/bin/python bench/redaction_eval.py [--set tests/fixtures/redaction/eval.jsonl]
        [--half dev|held-out|all] [--repeat 3]

Leak recall: share of labelled PII values with no identifying part left after redaction — for a
number, fewer than 4 of its digits (or, for shorter values, none) outside the redacted spans; for
words (names, emails, addresses), no word of 2+ letters and no 3 spelled letters left.
Over-redaction: share of words of PII-free utterances that a redaction touches. Throughput: words
per second on one core (the process pins itself to one CPU and one BLAS thread). Stock Presidio
is ``AnalyzerEngine`` with its default recognizers on the same spaCy model, one ``analyze`` call
per utterance. Targets (reported, not asserted): recall >= 0.97, over-redaction <= 0.02,
throughput >= 3x stock. The set is split in two halves by a hash of the id: tune on ``dev`` only.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.redaction.spoken import number_runs, tokenize  # noqa: E402

_WORD = re.compile(r"[A-Za-z0-9']+")
# Connective words inside a value that identify nobody on their own.
_FILLER = frozenset({
    "dot", "at", "underscore", "dash", "hyphen", "as", "in", "for", "and", "the", "of", "with",
    "double", "apostrophe", "then", "com", "net", "org", "edu", "co", "uk", "io", "ru", "it's",
    "street", "st", "avenue", "ave", "road", "rd", "drive", "lane", "court", "way", "boulevard",
    "blvd", "terrace", "circle", "parkway", "apartment", "apt", "unit", "suite", "number",
    "north", "south", "east", "west", "a", "p", "gmail", "yahoo", "outlook", "hotmail", "icloud",
    "aol", "mail", "protonmail", "plus",
})
Span = tuple[int, int]


@dataclass(frozen=True)
class Case:
    id: str
    agent: str | None
    text: str
    pii: list[dict[str, str]]

    @property
    def half(self) -> str:
        return "dev" if int(hashlib.sha256(self.id.encode()).hexdigest()[:8], 16) % 2 == 0 \
            else "held-out"


def load(path: Path) -> list[Case]:
    return [Case(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def _uncovered(text: str, lo: int, hi: int, spans: Sequence[Span]) -> str:
    chars = list(text[lo:hi])
    for s, e in spans:
        for k in range(max(s, lo), min(e, hi)):
            chars[k - lo] = " "
    return "".join(chars)


def _digits(text: str) -> int:
    return sum(len(r.digits) for r in number_runs(tokenize(text)))


def leaked(text: str, value: str, spans: Sequence[Span]) -> bool:
    lo = text.index(value)
    rest = _uncovered(text, lo, lo + len(value), spans)
    total = _digits(value)
    left = _digits(rest)
    if total and left >= min(4, total):
        return True
    words = [w for w in _WORD.findall(rest) if not any(ch.isdigit() for ch in w)]
    number_words = {t.low for r in number_runs(tokenize(rest)) for t in tokenize(rest)[r.first:r.last + 1]}
    name_words = [w for w in words if len(w) >= 2 and w.lower() not in _FILLER
                  and w.lower() not in number_words]
    letters = [w for w in words if len(w) == 1]
    return bool(name_words) or len(letters) >= 3


def over_redacted(text: str, spans: Sequence[Span]) -> tuple[int, int]:
    words = list(_WORD.finditer(text))
    hit = sum(1 for m in words if any(s < m.end() and m.start() < e for s, e in spans))
    return hit, len(words)


def score(cases: Sequence[Case], spans: Sequence[Sequence[Span]]) -> dict[str, float]:
    values = leaks = removed = total_words = 0
    for case, found in zip(cases, spans, strict=True):
        if case.pii:
            for item in case.pii:
                values += 1
                leaks += leaked(case.text, item["value"], found)
        else:
            hit, n = over_redacted(case.text, found)
            removed += hit
            total_words += n
    return {"recall": 1 - leaks / values if values else 1.0,
            "over_redaction": removed / total_words if total_words else 0.0,
            "values": values, "clean_words": total_words}


def leaks_of(cases: Sequence[Case], spans: Sequence[Sequence[Span]]) -> list[str]:
    out = []
    for case, found in zip(cases, spans, strict=True):
        out.extend(f"{case.id} {item['type']}: {case.text!r}" for item in case.pii
                   if leaked(case.text, item["value"], found))
        if not case.pii and found:
            out.append(f"{case.id} OVER: " + ", ".join(repr(case.text[s:e]) for s, e in found))
    return out


def voxledger(model: str) -> Callable[[Sequence[Case]], list[list[Span]]]:
    from services.redaction.engine import RedactionEngine
    from services.redaction.results import Utterance

    engine = RedactionEngine(model)
    engine.warm_up()

    def run(cases: Sequence[Case]) -> list[list[Span]]:
        turns = engine.redact([Utterance(c.text, c.agent) for c in cases])
        return [[(f.start, f.end) for f in t.findings] for t in turns]

    return run


def stock(model: str) -> Callable[[Sequence[Case]], list[list[Span]]]:
    from services.redaction.engine import build_stock_analyzer

    analyzer = build_stock_analyzer(model, ner_only=False)

    def run(cases: Sequence[Case]) -> list[list[Span]]:
        return [[(r.start, r.end) for r in analyzer.analyze(text=c.text, language="en")]
                for c in cases]

    return run


def words_per_s(run: Callable[[Sequence[Case]], list[list[Span]]], cases: Sequence[Case],
                repeat: int) -> float:
    words = sum(len(_WORD.findall(c.text)) for c in cases) * repeat
    run(cases)  # warm caches
    t0 = time.process_time()
    for _ in range(repeat):
        run(cases)
    return words / (time.process_time() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=Path("tests/fixtures/redaction/eval.jsonl"))
    ap.add_argument("--half", choices=("dev", "held-out", "all"), default="all")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default=None, help="spaCy model (default: VOXLEDGER_SPACY_MODEL)")
    ap.add_argument("--show-leaks", action="store_true", help="list misses (dev half only!)")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from services.platform.settings import load_settings

    model = args.model or load_settings().spacy_model
    cases = [c for c in load(args.set) if args.half == "all" or c.half == args.half]
    engines = {"voxledger": voxledger(model), "presidio": stock(model)}
    rows: dict[str, dict[str, float]] = {}
    for name, run in engines.items():
        found = run(cases)
        row = {half: score([c for c in cases if c.half == half],
                           [f for c, f in zip(cases, found, strict=True) if c.half == half])
               for half in ("dev", "held-out")}
        both = score(cases, found)
        rows[name] = {"recall": both["recall"], "over": both["over_redaction"],
                      "recall_dev": row["dev"]["recall"], "recall_held": row["held-out"]["recall"],
                      "over_dev": row["dev"]["over_redaction"],
                      "over_held": row["held-out"]["over_redaction"],
                      "wps": words_per_s(run, cases, args.repeat)}
        if args.show_leaks and name == "voxledger":
            for line in leaks_of([c for c in cases if c.half == "dev"],
                                 [f for c, f in zip(cases, found, strict=True) if c.half == "dev"]):
                print("  miss", line)
    n_values = sum(len(c.pii) for c in cases)
    print(f"{len(cases)} utterances, {n_values} PII values, model {model}")
    print(f"{'engine':<10} {'recall':>7} {'dev':>7} {'held':>7} {'over':>7} {'dev':>7} "
          f"{'held':>7} {'words/s':>9}")
    for name, r in rows.items():
        print(f"{name:<10} {r['recall']:>7.3f} {r['recall_dev']:>7.3f} {r['recall_held']:>7.3f} "
              f"{r['over']:>7.3f} {r['over_dev']:>7.3f} {r['over_held']:>7.3f} {r['wps']:>9.0f}")
    v, p = rows["voxledger"], rows["presidio"]
    print(json.dumps({
        "redaction_words_per_s": round(v["wps"]), "presidio_words_per_s": round(p["wps"]),
        "redaction_ratio": round(v["wps"] / p["wps"], 2), "recall": round(v["recall"], 4),
        "presidio_recall": round(p["recall"], 4), "over_redaction": round(v["over"], 4),
        "presidio_over_redaction": round(p["over"], 4),
        "recall_dev": round(v["recall_dev"], 4), "recall_held_out": round(v["recall_held"], 4),
    }))


if __name__ == "__main__":
    main()
