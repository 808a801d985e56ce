"""The redaction engine: Presidio (analyzer + anonymizer) plus the speech-aware recognizers.

Built once per process on first use (thread-safe), then shared. spaCy runs batched through
Presidio's ``process_batch`` (``nlp.pipe``) with only the NER component enabled; Presidio
contributes NER names and the written-form recognizers we keep; our recognizers add spoken forms
and dialogue context; found names and places grow over their words and across hesitations, and
places said together with a place found are found too (``spans.py``, ``place_cues.py``).
Blocking: call :meth:`RedactionEngine.redact_async` from an event loop.

Stock Presidio entities kept: PERSON, NRP and LOCATION (spaCy NER; lower-case ASR text is
truecased first and the model's places and names are kept only when a cue or a list vouches for
them, ``ner.py``), EMAIL_ADDRESS, CREDIT_CARD, IBAN_CODE, IP_ADDRESS. Our recognizers cover the
rest of Presidio's English defaults in written and spoken form: LOCATION (a gazetteer with
cues, and places by their cues alone), US_PASSPORT, US_DRIVER_LICENSE, US_ITIN, US_BANK_NUMBER,
UK_NHS, URL, MEDICAL_LICENSE, CRYPTO, phone/SSN/bank numbers, and DATE_TIME only as a birth date
(``DATE_OF_BIRTH``) or the day of a life event ("passed on october eleventh"): "two days",
"Sunday", "3:45" stay. Then the policy decides: operators
(``keep`` drops a class), location granularity, NRP scope; and within a session, further
mentions of a name or place are found (``session.py``). A call not in the policy's language
runs only the language-independent recognizers (no spaCy).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any

from services.redaction.context import from_agent_turn
from services.redaction.merge import merge
from services.redaction.ner import kept, truecased_for_ner
from services.redaction.offline import require_installed, use_bundled_suffix_list
from services.redaction.policy import DEFAULT_POLICY, Pseudonyms, RedactionPolicy, replacement
from services.redaction.recognizers import View, recognize_all
from services.redaction.recognizers.base import Finding
from services.redaction.recognizers.name_links import coordinated_names
from services.redaction.recognizers.name_repairs import repaired
from services.redaction.recognizers.names import core_first_names, core_last_names
from services.redaction.recognizers.place_cues import coordinated
from services.redaction.recognizers.places import groups_of_things
from services.redaction.results import (
    DETECTOR_VERSION,
    FindingRecord,
    RedactedTurn,
    Utterance,
)
from services.redaction.session import repeated, within
from services.redaction.spans import Grower

STOCK_ENTITIES = ("PERSON", "NRP", "LOCATION", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")
_LANG = "en"
MAX_NLP_CHARS = 20_000
# Bounded work per utterance: a spoken turn is rarely over 2,000 characters (a 10-minute
# monologue is ~9,000); past this the rest is withheld rather than redacted and exported (failing
# closed) and reported as a TRUNCATED finding. Presidio costs ~0.05 s per 1,000 characters here,
# so a 1 MiB frame's text no longer holds the worker for seconds.
MAX_UTTERANCE_CHARS = 8_000
TRUNCATED_MARK = " [TRUNCATED]"


def bounded(item: Utterance) -> tuple[Utterance, int]:
    """``item`` cut to MAX_UTTERANCE_CHARS (at a space when there is one) and the cut offset."""
    text = item.text
    if len(text) <= MAX_UTTERANCE_CHARS:
        return item, len(text)
    cut = text.rfind(" ", MAX_UTTERANCE_CHARS // 2, MAX_UTTERANCE_CHARS)
    cut = cut if cut > 0 else MAX_UTTERANCE_CHARS
    previous = item.previous_agent
    if previous is not None and len(previous) > MAX_UTTERANCE_CHARS:
        previous = previous[-MAX_UTTERANCE_CHARS:]  # only its end is context for the reply
    return Utterance(text[:cut], previous), cut


_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z'A-Z-]+")
_WORDS = re.compile(r"[a-z']+")


def needs_ner(text: str) -> bool:
    """Whether spaCy's NER could add anything: it finds names and groups by their capitals,
    so a line with no capitalised word past a sentence start (ASR lower case, "Okay, thanks.")
    skips the model; our recognizers read it all the same. This halves spaCy's share of a
    typical call."""
    if _CAPITALISED.search(text):
        return True
    # A sentence may start with a name ("Maria here."), and spaCy still finds some names in
    # lower case ("olga dot ivanova at …"): a known first or last name anywhere sends the line.
    # Spoken emails too: spaCy tags "olga dot ivanova" as a name where the TLD is unknown to us.
    low = text.lower()
    if " dot " in low and (" at " in low or "@" in low):
        return True
    names = _known_names()
    return any(w in names for w in _WORDS.findall(low))


@cache
def _known_names() -> frozenset[str]:
    return core_first_names() | core_last_names()


def windows_of(text: str, limit: int) -> list[tuple[int, str]]:
    """Split ``text`` into (offset, chunk) of at most ``limit`` chars, cutting at whitespace."""
    out: list[tuple[int, str]] = []
    pos = 0
    while len(text) - pos > limit:
        cut = text.rfind(" ", pos + limit // 2, pos + limit)
        cut = cut if cut > pos else pos + limit
        out.append((pos, text[pos:cut]))
        pos = cut
    out.append((pos, text[pos:]))
    return out


@dataclass(frozen=True, slots=True)
class _Built:
    analyzer: Any  # presidio_analyzer.AnalyzerEngine
    anonymizer: Any  # presidio_anonymizer.AnonymizerEngine
    patterns: tuple[Any, ...]  # Presidio's pattern recognizers, for lines spaCy skips


def build_stock_analyzer(model_name: str, *, ner_only: bool) -> Any:
    """A Presidio AnalyzerEngine on ``model_name``, offline. ``ner_only`` trims the spaCy pipe."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    require_installed(model_name)
    use_bundled_suffix_list()
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": _LANG, "model_name": model_name}],
    })
    nlp_engine: Any = provider.create_engine()
    if ner_only:
        _keep_only_ner(nlp_engine.nlp[_LANG])
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=[_LANG])


def _keep_only_ner(nlp: Any) -> None:
    """Disable every component NER does not listen to (parser, tagger, lemmatizer…)."""
    ner = nlp.get_pipe("ner")
    listens = {node.name.split("-listener")[0] for node in ner.model.walk()
               if node.name.endswith("-listener")}
    for name in nlp.pipe_names:
        if name != "ner" and name not in listens:
            nlp.disable_pipe(name)


class RedactionEngine:
    def __init__(self, model_name: str, *, batch_size: int = 64) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self.detector_version = f"{DETECTOR_VERSION} presidio/{version('presidio-analyzer')}"
        self._built: _Built | None = None
        self._lock = threading.Lock()

    def _engine(self) -> _Built:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built

    def _build(self) -> _Built:
        from presidio_analyzer import RecognizerRegistry
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            SpacyRecognizer,
        )
        from presidio_anonymizer import AnonymizerEngine

        analyzer = build_stock_analyzer(self.model_name, ner_only=True)
        registry = RecognizerRegistry(supported_languages=[_LANG])
        patterns = (EmailRecognizer(), CreditCardRecognizer(), IbanRecognizer(), IpRecognizer())
        for rec in (SpacyRecognizer(supported_entities=["PERSON", "NRP", "LOCATION"]), *patterns):
            registry.add_recognizer(rec)
        analyzer.registry = registry
        return _Built(analyzer, AnonymizerEngine(), patterns)  # type: ignore[no-untyped-call]

    def warm_up(self) -> None:
        """Build Presidio and spaCy, load the recognizers' tables and redact a sample once, so
        the first real call costs what any other does (``warm.py``)."""
        from services.redaction import warm

        self._engine()
        warm.load_tables()
        self.redact(warm.SAMPLE, session=True)

    def analyze(self, items: Sequence[Utterance], *,
                english: bool = True) -> tuple[list[View], list[list[Finding]]]:
        """Views and findings per utterance (overlapping, unfiltered), in input order."""
        views = [View.of(u.text, from_agent_turn(u.previous_agent), u.speaker) for u in items]
        out: list[list[Finding]] = [[] for _ in items]
        if english:
            self._stock(items, views, out)
        for k, view in enumerate(views):
            out[k].extend(recognize_all(view, english=english))
        return views, out

    def _stock(self, items: Sequence[Utterance], views: list[View],
               out: list[list[Finding]]) -> None:
        built = self._engine()
        # Long lines go to spaCy in windows: its memory grows with the text, and it refuses
        # texts over nlp.max_length. Our recognizers read the whole line.
        cased = [truecased_for_ner(u.text, view) for u, view in zip(items, views, strict=True)]
        ner = [needs_ner(c.text) for c in cased]
        for k, u in enumerate(items):
            if not ner[k]:  # no spaCy, but Presidio's written-form patterns all the same
                out[k].extend(Finding(r.entity_type, r.start, r.end, r.score, "presidio")
                              for rec in built.patterns
                              for r in rec.analyze(u.text, rec.supported_entities, None))
        windows = [(k, off, chunk) for k, u in enumerate(items) if ner[k]
                   for off, chunk in windows_of(cased[k].text, MAX_NLP_CHARS) if chunk.strip()]
        artifacts = built.analyzer.nlp_engine.process_batch(
            [chunk for _, _, chunk in windows], language=_LANG, batch_size=self.batch_size)
        for (k, off, _), (chunk, nlp_artifacts) in zip(windows, artifacts, strict=True):
            for r in built.analyzer.analyze(text=chunk, language=_LANG,
                                            entities=list(STOCK_ENTITIES),
                                            nlp_artifacts=nlp_artifacts):
                found = kept(views[k], cased[k], r.entity_type, r.start + off, r.end + off,
                              r.score)
                if found is not None:
                    out[k].append(found)

    def findings(self, items: Sequence[Utterance], policy: RedactionPolicy = DEFAULT_POLICY, *,
                 session: bool = False, english: bool = True,
                 whole: Sequence[str | None] | None = None) -> list[list[Finding]]:
        """Merged findings the policy redacts; ``session``: the items are one call's turns (and
        tool-call values); ``whole[k]``: item k is entirely that entity (a tool-call value whose
        key says so), not analysed."""
        views, found = self.analyze(items, english=english)
        for k, entity in enumerate(whole or ()):
            if entity is not None:
                found[k] = [Finding(entity, 0, len(items[k].text), 1.0, "key")]
        if english and policy.nrp_scope == "all":  # stock Presidio's every group mention
            for k, view in enumerate(views):
                found[k].extend(groups_of_things(view))
        found = [[f for f in fs if _applies(policy, f)] for fs in found]
        # "ketchikan and skagway": a place said with a place found, whoever found it; "tomasz
        # uh nowak": one name across the caller's hesitation
        found = [[*fs, *(f for f in coordinated(view, fs) if _applies(policy, f))]
                 if english else fs for view, fs in zip(views, found, strict=True)]
        # "centeno and woods": a listed word said in a list with a name found
        found = [[*fs, *(f for f in coordinated_names(view, fs) if _applies(policy, f))]
                 if english else fs for view, fs in zip(views, found, strict=True)]
        # "its price uh tameka price", "my mom carol young not me": a found name's other parts
        found = [[*fs, *(f for f in repaired(view, fs) if _applies(policy, f))]
                 if english else fs for view, fs in zip(views, found, strict=True)]
        found = [Grower(view).bridge(fs) if fs else fs
                 for view, fs in zip(views, found, strict=True)]
        if session and english:
            for k, extra in enumerate(repeated(views, found)):
                found[k].extend(extra)
        elif english:
            for k, extra in enumerate(within(views, found)):
                # "Mei-Ling | Chen": a surname found again, with the parts said around it
                found[k].extend([*extra, *repaired(views[k], extra, tokens=False)]
                                 if extra else extra)
        return [merge(fs, policy.threshold) for fs in found]

    def redact(self, items: Sequence[Utterance], policy: RedactionPolicy = DEFAULT_POLICY,
               pseudonyms: Pseudonyms | None = None, *, session: bool = False,
               english: bool = True,
               whole: Sequence[str | None] | None = None) -> list[RedactedTurn]:
        """Redact a batch; pass the session's ``pseudonyms`` to keep labels stable across calls,
        and ``session=True`` when the items are the turns of one call, in order."""
        pseudonyms = pseudonyms or Pseudonyms(secrets.token_bytes(32))
        built = self._engine()
        cut = [bounded(item) for item in items]
        kept = [item for item, _ in cut]
        found = self.findings(kept, policy, session=session, english=english, whole=whole)
        turns = [self._anonymize(built, item.text, fs, policy, pseudonyms)
                 for item, fs in zip(kept, found, strict=True)]
        return [turn if at == len(item.text) else _truncated(turn, at, len(item.text))
                for turn, item, (_, at) in zip(turns, items, cut, strict=True)]

    async def redact_async(self, items: Sequence[Utterance],
                           policy: RedactionPolicy = DEFAULT_POLICY,
                           pseudonyms: Pseudonyms | None = None, *, session: bool = False,
                           english: bool = True,
                           whole: Sequence[str | None] | None = None) -> list[RedactedTurn]:
        return await asyncio.to_thread(self.redact, items, policy, pseudonyms,
                                       session=session, english=english, whole=whole)

    def _anonymize(self, built: _Built, text: str, findings: list[Finding],
                   policy: RedactionPolicy, pseudonyms: Pseudonyms) -> RedactedTurn:
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        redacted = text
        if findings:
            operators = {
                f.entity_type: OperatorConfig("custom", {"lambda": _replacer(
                    policy, pseudonyms, f.entity_type)})
                for f in findings
            }
            results = [RecognizerResult(f.entity_type, f.start, f.end, f.score)
                       for f in findings]
            redacted = built.anonymizer.anonymize(
                text=text, analyzer_results=results, operators=operators).text
        return RedactedTurn(
            text=redacted,
            findings=tuple(FindingRecord(entity_type=f.entity_type, start=f.start, end=f.end,
                                         score=round(f.score, 3), detector=f.detector)
                           for f in findings),
            detector_version=self.detector_version, model=self.model_name,
            policy_hash=policy.policy_hash, policy_version=policy.version)


def _truncated(turn: RedactedTurn, at: int, length: int) -> RedactedTurn:
    withheld = FindingRecord(entity_type="TRUNCATED", start=at, end=length, score=1.0,
                             detector="length-bound")
    return turn.model_copy(update={"text": turn.text + TRUNCATED_MARK,
                                   "findings": (*turn.findings, withheld)})


def _applies(policy: RedactionPolicy, f: Finding) -> bool:
    """Whether the policy redacts this finding: ``keep`` classes, places finer than the
    policy's granularity and, under ``nrp_scope: people``, group words for things stay in the
    text."""
    if policy.operator_for(f.entity_type) == "keep":
        return False
    if f.entity_type == "LOCATION":
        if policy.location_granularity == "none":
            return False
        if policy.location_granularity == "below_country" and f.detector.endswith(":country"):
            return False
    if f.entity_type == "NRP" and f.detector.endswith(":thing"):
        return policy.nrp_scope == "all"  # "thai food": a group word for a thing
    return True


def _replacer(policy: RedactionPolicy, pseudonyms: Pseudonyms, entity_type: str) -> Any:
    def replace(value: str) -> str:
        return replacement(policy, pseudonyms, entity_type, value)

    return replace


_shared: dict[tuple[str, int], RedactionEngine] = {}
_shared_lock = threading.Lock()


def shared_engine(model_name: str, batch_size: int = 64) -> RedactionEngine:
    """The process-wide engine for a model: built once, reused by every caller."""
    with _shared_lock:
        key = (model_name, batch_size)
        if key not in _shared:
            _shared[key] = RedactionEngine(model_name, batch_size=batch_size)
        return _shared[key]
