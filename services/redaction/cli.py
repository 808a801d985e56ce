"""``voxledger redact``: one utterance per stdin line in, exactly one redacted line out, in order."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, BinaryIO, TextIO

import typer

from services.redaction.errors import BadInput, RedactionError

if TYPE_CHECKING:
    from services.redaction.engine import RedactionEngine
    from services.redaction.results import RedactedTurn

_CHUNK = 64


def register(app: typer.Typer) -> None:
    @app.command()
    def redact(
        context: Annotated[bool, typer.Option(
            "--context", help="treat lines as a dialogue (agent/caller alternate, or 'agent:' / "
            "'caller:' prefixes; an empty line ends a dialogue): the agent's question informs "
            "the caller's answer")] = False,
        as_json: Annotated[bool, typer.Option(
            "--json", help="one JSON object per line: text and entities (type, start, end, "
            "score), never the values")] = False,
    ) -> None:
        """Redact PII from stdin, one utterance per line, to stdout (line count and order kept)."""
        from services.platform.settings import load_settings
        from services.redaction.engine import shared_engine

        settings = load_settings()
        engine = shared_engine(settings.spacy_model, settings.redaction_batch_size)
        try:
            run(engine, sys.stdin.buffer, sys.stdout, context=context, as_json=as_json)
        except RedactionError as exc:
            sys.stdout.flush()
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


def _lines(stream: BinaryIO) -> Iterator[str]:
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"stdin line {number} is not valid UTF-8 (byte {exc.start} of the "
                           "line); lines before it were written") from None
        yield text.rstrip("\n").removesuffix("\r")


def run(engine: RedactionEngine, stream: BinaryIO, out: TextIO, *, context: bool,
        as_json: bool) -> None:
    from services.redaction.dialogue import Dialogue, Line
    from services.redaction.policy import DEFAULT_POLICY, Pseudonyms

    dialogue = Dialogue(context=context)
    # Pseudonyms are stable within one dialogue (--context) or the whole run, never across runs.
    pseudonyms = Pseudonyms(secrets.token_bytes(32))
    batch: list[Line] = []

    def flush() -> None:
        turns = engine.redact([ln.utterance for ln in batch], DEFAULT_POLICY, pseudonyms)
        for ln, turn in zip(batch, turns, strict=True):
            out.write(_format(ln.prefix, turn, as_json) + "\n")
        out.flush()
        batch.clear()

    try:
        for text in _lines(stream):
            line = dialogue.read(text)
            if context and dialogue.ended:
                if batch:
                    flush()
                pseudonyms = Pseudonyms(secrets.token_bytes(32))
            batch.append(line)
            if len(batch) >= _CHUNK:
                flush()
    finally:
        # Lines read before a bad one are still written, so the output stays a prefix of the input.
        if batch:
            flush()


def _format(prefix: str, turn: RedactedTurn, as_json: bool) -> str:
    if not as_json:
        return prefix + turn.text
    shift = len(prefix)
    return json.dumps({
        "text": prefix + turn.text,
        "entities": [{"type": f.entity_type, "start": f.start + shift, "end": f.end + shift,
                      "score": f.score} for f in turn.findings],
        "detector_version": turn.detector_version,
        "model": turn.model,
        "policy_hash": turn.policy_hash,
    }, ensure_ascii=False)
