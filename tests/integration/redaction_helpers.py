"""Private transcript and redaction consumers for one tenant, and waits on their tables."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine, func, select

from services.platform.keys import LocalKeyProvider
from services.platform.settings import Settings
from services.redaction.engine import shared_engine
from services.redaction.models import RedactionSession
from services.redaction.worker import RedactionWorker
from services.simulator.script import Script
from services.transcripts.consumer import TranscriptBuilder, make_transcripts


def transcripts_for(settings: Settings, tenant: str) -> TranscriptBuilder:
    handler = make_transcripts(settings, tenant=tenant)
    handler.name = f"transcripts-test-{tenant}"
    return handler


def redaction_for(settings: Settings, tenant: str) -> RedactionWorker:
    worker = RedactionWorker(shared_engine(settings.spacy_model, settings.redaction_batch_size),
                             LocalKeyProvider.from_file(settings.keyring_path))
    worker.name = f"redaction-test-{tenant}"
    worker.tenant = tenant
    return worker


def counts(engine: Engine, tenant: str) -> Callable[[], Awaitable[tuple[int, int]]]:
    """(ended sessions seen, sessions redacted) for the tenant."""
    async def check() -> tuple[int, int]:
        with engine.connect() as conn:
            row = conn.execute(select(func.count(), func.count(RedactionSession.redacted_at))
                               .where(RedactionSession.tenant_id == tenant)).one()
        return int(row[0]), int(row[1])
    return check


_DIGIT_WORDS = r"(zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_SPOKEN_RUN = re.compile(rf"\b{_DIGIT_WORDS}([ ,]+{_DIGIT_WORDS}){{3,}}\b", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\d[\d ]{2,}\d")
_SPELLED = re.compile(r"\b([A-Z] ){3,}[A-Z]\b")


def leaks(text: str, script: Script) -> list[str]:
    """Kinds of the script's PII still readable in ``text`` (kinds only, never the values)."""
    found = []
    caller = " ".join(t.text for t in script.turns if t.speaker == "caller")
    names = set(re.findall(r"It's (\w+) (\w+),", caller)[0])
    if any(re.search(rf"\b{re.escape(n)}\b", text, re.IGNORECASE) for n in names):
        found.append("name")
    if _SPELLED.search(text):
        found.append("spelled letters")
    if _SPOKEN_RUN.search(text):
        found.append("digits as words")
    if _DIGIT_RUN.search(text):
        found.append("digits")
    if re.search(r"\b(gmail|yahoo|outlook|proton)\b", text, re.IGNORECASE):
        found.append("email domain")
    if script.caller_phone_e164[-4:] in text:
        found.append("phone")
    return found
