"""The redaction engine: Presidio (analyzer + anonymizer) plus the speech-aware recognizers.

Built once per process on first use (thread-safe), then shared. spaCy runs batched through
Presidio's ``process_batch`` (``nlp.pipe``) with only the NER component enabled; Presidio
contributes NER names and the written-form recognizers we keep; our recognizers add spoken forms
and dialogue context. Blocking: call :meth:`RedactionEngine.redact_async` from an event loop.

Stock Presidio entities kept: PERSON (spaCy NER), EMAIL_ADDRESS, CREDIT_CARD, IBAN_CODE,
IP_ADDRESS. Dropped on purpose: DATE_TIME ("two days", "Sunday", "3:45"), NRP, LOCATION (cities
and countries are not personal on their own and make most over-redaction), URL, and the stock
phone/SSN/bank recognizers, which our number reader replaces for written and spoken forms.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from services.redaction.context import from_agent_turn
from services.redaction.merge import merge
from services.redaction.offline import require_installed, use_bundled_suffix_list
from services.redaction.policy import DEFAULT_POLICY, Pseudonyms, RedactionPolicy, replacement
from services.redaction.recognizers import View, recognize_all
from services.redaction.recognizers.base import Finding
from services.redaction.results import (
    DETECTOR_VERSION,
    FindingRecord,
    RedactedTurn,
    Utterance,
)

STOCK_ENTITIES = ("PERSON", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS")
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
        for rec in (SpacyRecognizer(supported_entities=["PERSON"]), EmailRecognizer(),
                    CreditCardRecognizer(), IbanRecognizer(), IpRecognizer()):
            registry.add_recognizer(rec)
        analyzer.registry = registry
        return _Built(analyzer, AnonymizerEngine())  # type: ignore[no-untyped-call]

    def warm_up(self) -> None:
        self._engine()

    def analyze(self, items: Sequence[Utterance]) -> list[list[Finding]]:
        """Findings per utterance (overlapping, unfiltered), in input order."""
        built = self._engine()
        # Long lines go to spaCy in windows: its memory grows with the text, and it refuses
        # texts over nlp.max_length. Our recognizers read the whole line.
        windows = [(k, off, chunk) for k, u in enumerate(items)
                   for off, chunk in windows_of(u.text, MAX_NLP_CHARS) if chunk.strip()]
        out: list[list[Finding]] = [[] for _ in items]
        artifacts = built.analyzer.nlp_engine.process_batch(
            [chunk for _, _, chunk in windows], language=_LANG, batch_size=self.batch_size)
        for (k, off, _), (chunk, nlp_artifacts) in zip(windows, artifacts, strict=True):
            out[k].extend(
                Finding(r.entity_type, r.start + off, r.end + off, r.score, "presidio")
                for r in built.analyzer.analyze(text=chunk, language=_LANG,
                                                entities=list(STOCK_ENTITIES),
                                                nlp_artifacts=nlp_artifacts))
        for k, item in enumerate(items):
            out[k].extend(recognize_all(View.of(item.text, from_agent_turn(item.previous_agent))))
        return out

    def redact(self, items: Sequence[Utterance], policy: RedactionPolicy = DEFAULT_POLICY,
               pseudonyms: Pseudonyms | None = None) -> list[RedactedTurn]:
        """Redact a batch; pass the session's ``pseudonyms`` to keep labels stable across calls."""
        pseudonyms = pseudonyms or Pseudonyms(secrets.token_bytes(32))
        built = self._engine()
        cut = [bounded(item) for item in items]
        kept = [item for item, _ in cut]
        turns = [self._anonymize(built, item.text, merge(found, policy.threshold), policy,
                                 pseudonyms)
                 for item, found in zip(kept, self.analyze(kept), strict=True)]
        return [turn if at == len(item.text) else _truncated(turn, at, len(item.text))
                for turn, item, (_, at) in zip(turns, items, cut, strict=True)]

    async def redact_async(self, items: Sequence[Utterance],
                           policy: RedactionPolicy = DEFAULT_POLICY,
                           pseudonyms: Pseudonyms | None = None) -> list[RedactedTurn]:
        return await asyncio.to_thread(self.redact, items, policy, pseudonyms)

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
