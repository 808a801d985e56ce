"""Rebuild ``services/redaction/recognizers/data/faker_en_us.json``: what Faker's en_US
providers put in generated text (presidio-evaluator fills its templates with them): first and
last names, countries, and the prefixes and suffixes its town names are made of ("north
jennifer", "davidberg", "port michaelmouth").

    .venv/bin/python bench/build_faker_lists.py

Faker is a development dependency (through presidio-evaluator): the lists are built here and
committed, nothing reads Faker at run time. Lowercased; a country's bracketed part ("Falkland
Islands (Malvinas)") becomes a second name. Deterministic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from faker.providers.address.en_US import Provider as Address
from faker.providers.person.en_US import Provider as Person

OUT = Path(__file__).resolve().parents[1] / "services/redaction/recognizers/data/faker_en_us.json"
_BRACKET = re.compile(r"\s*\(([^)]*)\)")


def _countries() -> list[str]:
    out: set[str] = set()
    for name in Address.countries:
        inner = _BRACKET.findall(name)
        out.add(_BRACKET.sub("", name).strip().lower())
        out.update(i.strip().lower() for i in inner if not i.strip()[:1].isdigit())
    return sorted(n for n in out if n)


def main() -> None:
    data = {
        "source": "Faker en_US providers (pinned), by bench/build_faker_lists.py",
        "first": sorted({n.lower() for n in Person.first_names}),
        "last": sorted({n.lower() for n in Person.last_names}),
        "countries": _countries(),
        "city_prefixes": sorted({p.lower() for p in Address.city_prefixes}),
        "city_suffixes": sorted({s.lower() for s in Address.city_suffixes}),
    }
    OUT.write_text(json.dumps(data, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{OUT.name}: {len(data['first'])} first, {len(data['last'])} last, "
          f"{len(data['countries'])} countries")


if __name__ == "__main__":
    main()
