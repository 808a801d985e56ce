"""What a redaction process loads before its first call, so that call costs what any other does.

The recognizers load their tables on first use (name lists, gazetteers, word frequencies, the
public suffix list; ``functools.cache`` on functions of no argument), and spaCy and Presidio
allocate and compile on their first analysis. Together that was ~1.6 s of CPU on the first
session a ``voxledger run`` process redacted: in the middle of live calls (one process, one GIL),
and charged to the bench step that happened to contain it (0.55 ms per event of a 4-session
step, against 0.05 in the next). :func:`load_tables` loads every such table, whatever module
declares it; :data:`SAMPLE` is one invented dialogue that runs every path once. Pure but for the
files it reads.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

from services.redaction import recognizers
from services.redaction.results import Utterance

# Invented values only: the words that reach the name, place, address, email, number and
# spelling readers, and both speakers with dialogue context.
_ASK = "Thanks for calling. Who am I speaking with, and what's your date of birth?"
_ASK_CONTACT = "And your email and phone number, please?"
SAMPLE: tuple[Utterance, ...] = (
    Utterance(_ASK, speaker="agent"),
    Utterance("It's Jane Doe, J A N E, born March third nineteen eighty. I live at 12 Main "
              "Street in Springfield, Illinois.", _ASK, "caller"),
    Utterance("Got it, Ms. Doe. We'll write to Mr. Young at 40 Elm Road, Austin, TX 78701.",
              speaker="agent"),
    Utterance(_ASK_CONTACT, speaker="agent"),
    Utterance("jane dot doe at example dot com, five five five one two three four, and the "
              "site is www.example.com", _ASK_CONTACT, "caller"),
)


def cached_loaders() -> list[functools._lru_cache_wrapper[object]]:
    """Every cached function of no argument that a recognizer module declares."""
    out: list[functools._lru_cache_wrapper[object]] = []
    for info in pkgutil.iter_modules(recognizers.__path__):
        module = importlib.import_module(f"{recognizers.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, functools._lru_cache_wrapper) \
                    and value.__module__ == module.__name__ \
                    and not inspect.signature(value).parameters:
                out.append(value)
    return out


def load_tables() -> None:
    for loader in cached_loaders():
        loader()
