"""Do the speech-aware recognizers stay linear on long, adversarial inputs?

    .venv/bin/python bench/redaction_linear.py

Times each recognizer (and the engine's truecasing, places said together and grown names) on
inputs of 10k, 40k and 160k characters built to provoke backtracking or
rescans (one huge token, endless digit words, "dot" chains, spelled letters, particles, ...) and
prints the time per character; a linear recognizer keeps it flat as the input grows 16x. Prints
one JSON line: the worst growth ratio (time per char at 160k / at 10k) per recognizer.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.redaction.context import from_agent_turn
from services.redaction.recognizers import RECOGNIZERS, View, place_cues
from services.redaction.spans import Grower
from services.redaction.truecase import truecase

PATTERNS = {
    "one token": "a", "words": "a ", "digits": "1 ", "digit words": "one ",
    "dot chain": "acme dot ", "spelled": "k ", "as in": "w as in william ",
    "particles": "van der ", "capitals": "Maria ", "code": "A1 ", "slashes": "slash ",
    "base58": "1A", "at dot": "a at b dot ", "hyphens": "Smith-",
    "www": "www.", "web at": "page at b dot travel ", "initials": "s k ", "mc": "mc ",
    "ipv6": "1:2:", "places": "in the outskirts of ",
    "rare words": "in wapakoneta ", "hesitations": "tomasz uh nowak uh ",
    "said together": "tulsa and norman and ", "lakes": "on flathead lake ",
    "roads": "county road twelve box ",
}
SIZES = (10_000, 40_000, 160_000)


def main() -> None:
    worst: dict[str, float] = {}
    context = from_agent_turn("What's your passport number and address?")
    for label, unit in PATTERNS.items():
        per_char = []
        for size in SIZES:
            text = (unit * (size // len(unit) + 1))[:size]
            view = View.of(text, context, "caller")
            t0 = time.process_time()
            found = [f for rec in RECOGNIZERS for f in rec(view)]
            # what the engine does around them: truecasing for spaCy, places said together,
            # names and places grown and bridged across hesitations
            truecase(text)
            found += place_cues.coordinated(view, found)
            Grower(view).bridge(found)
            per_char.append((time.process_time() - t0) / size)
        ratio = per_char[-1] / max(per_char[0], 1e-12)
        worst[label] = round(ratio, 2)
        print(f"{label:<12} " + " ".join(f"{p * 1e6:8.2f}us" for p in per_char)
              + f"   x{ratio:.2f}")
    print(json.dumps({"linear_growth_worst": max(worst.values()), "by_input": worst}))


if __name__ == "__main__":
    main()
