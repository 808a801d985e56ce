"""Which language a call is in: py3langid (an offline model shipped in its wheel) over the
call's whole text, with a guard for short English ASR lines.

langid on one short line is unreliable ("ok", "yes, thanks"); over a whole call it is not. The
text of every turn is joined; under ``MIN_LETTERS`` letters there is nothing to tell and the
policy's language is assumed. English ASR text is full of function words, so a call where a
quarter of the words are common English ones is English whatever langid says (it confuses
short, number-heavy English with other Latin-script languages). Pure logic after the model loads.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_LETTERS = 40
_ENGLISH_SHARE = 0.25
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_ENGLISH = frozenset("""
the a an and or but is are was were be been am i you he she it we they my your our their me him
her us them this that these those to of in on at for with from by about as not no yes yeah ok
okay so if then than what when where which who why how can could would should will do does did
have has had just please thanks thank there here it's i'm don't that's what's can't let's hi
hello sure right well um uh also get got need want like know think one two three four five
""".split())  # noqa: SIM905
_lock = threading.Lock()
_model: Any = None


@dataclass(frozen=True, slots=True)
class Detected:
    language: str  # ISO 639-1, e.g. "en"
    confidence: float  # 0..1
    method: str  # "langid", "stopwords", "too-short"


def _identifier() -> Any:
    global _model
    with _lock:
        if _model is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _model = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _model


def warm_up() -> None:
    """Load the model now (a process's first call not in English otherwise pays for it)."""
    _identifier()


def detect(texts: Sequence[str], default: str = "en") -> Detected:
    text = " ".join(t for t in texts if t)
    words = _WORD.findall(text.lower())
    if sum(len(w) for w in words) < MIN_LETTERS:
        return Detected(default, 0.0, "too-short")
    english = sum(1 for w in words if w in _ENGLISH) / len(words)
    if english >= _ENGLISH_SHARE:
        return Detected("en", round(min(1.0, english * 2), 3), "stopwords")
    lang, prob = _identifier().classify(text)
    return Detected(str(lang), round(float(prob), 3), "langid")
