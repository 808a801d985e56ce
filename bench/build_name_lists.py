"""Rebuild ``services/redaction/recognizers/data/more_names.json``: the names beyond the first
release's lists (``first_names.json``, ``last_names.json``: Faker's names of 21 locales, which
also decide whether a lower-case line goes to spaCy) from the pinned Faker's person providers.

    .venv/bin/python bench/build_name_lists.py

Faker is a development dependency (through presidio-evaluator): the lists are built here and
committed, nothing reads Faker at run time. Every locale whose names are written in Latin
letters (first and middle names, last names), plus the romanized names of ja_JP, zh_CN and
zh_TW ("yuki", "tanaka", "wei"), and the given names, surnames and mothers' maiden names of
presidio-evaluator's FakeNameGenerator records (its ``raw_data``: names of many nationalities,
"breogan", "orosco"), lowercased. Common English words are left out: spaCy's stop
words, Faker's en_US lorem list, and outside the first release's locales any word of Zipf
frequency 4 or more in wordfreq ("long" goes, "hong" stays). Deterministic.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[1] / "services/redaction/recognizers/data"
# The first release's locales: their names are kept whatever their frequency (as before).
FIRST = ("en_US", "en_GB", "en_IE", "en_IN", "en_NZ", "en_NG", "es_MX", "es_ES", "fr_FR",
         "de_DE", "it_IT", "pt_BR", "pl_PL", "nl_NL", "ga_IE", "hi_IN", "yo_NG", "ig_NG",
         "tr_TR", "sv_SE", "vi_VN")
ROMANIZED = ("ja_JP", "zh_CN", "zh_TW")
_COMMON = 4.0
# presidio-evaluator's person records: column → kind of name.
_RECORD_COLUMNS = {"GivenName": "first", "Surname": "last", "MothersMaiden": "last"}


def _latin(word: str) -> bool:
    return len(word) >= 2 and all(
        (c.isalpha() and "LATIN" in unicodedata.name(c, "")) or c in "'-" for c in word)


def _names(provider: type, kind: str, romanized: bool) -> set[str]:
    attr = f"{kind}_romanized_names" if romanized else f"{kind}_names"
    raw = getattr(provider, attr, ())
    if isinstance(raw, property) or raw is None:
        return set()
    if isinstance(raw, dict):
        raw = raw.keys()
    out = set()
    for name in raw:
        for part in str(name).lower().split():
            if _latin(part):
                out.add(part)
    return out


def _records() -> dict[str, set[str]]:
    """Names of presidio-evaluator's FakeNameGenerator records, by kind."""
    import csv

    import presidio_evaluator

    path = (Path(presidio_evaluator.__file__).parent
            / "data_generator/raw_data/FakeNameGenerator.com_3000.csv")
    out: dict[str, set[str]] = {"first": set(), "last": set()}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            for column, kind in _RECORD_COLUMNS.items():
                for part in (row.get(column) or "").lower().replace("-", " ").split():
                    if _latin(part):
                        out[kind].add(part)
    return out


def main() -> None:
    import faker.providers.person as person
    from faker.providers.lorem.en_US import Provider as Lorem
    from spacy.lang.en.stop_words import STOP_WORDS

    from services.redaction.recognizers.lexicon import zipf

    common = {w.lower() for w in Lorem.word_list} | set(STOP_WORDS)
    locales = sorted(m.name for m in pkgutil.iter_modules(person.__path__))
    more: dict[str, list[str]] = {}
    sources: list[str] = []
    records = _records()
    for kind in ("first", "last"):
        kept = {n for n in records[kind] - common if zipf(n) < _COMMON}
        used: list[str] = []
        for loc in locales:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
            romanized = loc in ROMANIZED
            names = _names(provider, kind, romanized)
            if kind == "first" and not romanized:
                names |= _names(provider, "middle", False)  # vi_VN "quang", "minh"
            if not romanized and not all(_latin(n) for n in names if n):
                names = {n for n in names if _latin(n)}
            if not names:
                continue
            total = getattr(provider, f"{kind}_names", ())
            total = () if isinstance(total, property) or total is None else total
            share = len(names) / max(1, len(total))
            if not romanized and share < 0.5:
                continue  # a non-Latin locale with a few Latin strays
            used.append(loc)
            for n in names - common:
                if loc in FIRST or zipf(n) < _COMMON:
                    kept.add(n)
        path = DATA / f"{kind}_names.json"
        old = set(json.loads(path.read_text(encoding="utf-8"))["names"])
        more[kind] = sorted(kept - old)
        sources.append(f"{kind}: {' '.join(used)}")
        print(f"{kind} names: {len(kept)} ({len(kept - old)} beyond {path.name})")
    doc = {"source": "Names beyond first_names.json/last_names.json (Faker, MIT licence): first "
                     "(and middle) and last names of every Latin-script locale, romanized for "
                     f"{' '.join(ROMANIZED)}, and of presidio-evaluator's FakeNameGenerator "
                     "records (MIT licence); lowercased, minus common English words (spaCy's "
                     "stop words, Faker's en_US lorem list, wordfreq Zipf >= 4). Locales "
                     + "; ".join(sources) + ". Built by bench/build_name_lists.py.",
           "first": more["first"], "last": more["last"]}
    (DATA / "more_names.json").write_text(json.dumps(doc, ensure_ascii=False, indent=0) + "\n",
                                          encoding="utf-8")

if __name__ == "__main__":
    main()
