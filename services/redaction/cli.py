"""``voxledger redact``: one utterance per stdin line in, exactly one redacted line out, in order."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, TextIO

import typer

from services.redaction.errors import BadInput, RedactionError

if TYPE_CHECKING:
    from services.redaction.engine import RedactionEngine
    from services.redaction.results import RedactedTurn

_CHUNK = 64


def register(app: typer.Typer) -> None:
    from services.redaction.export_cli import export_app

    # A group whose bare invocation is the stdin filter, so `voxledger redact --context` keeps
    # working next to `voxledger redact reprocess`.
    redact_app = typer.Typer(invoke_without_command=True)

    @redact_app.callback(invoke_without_command=True)
    def redact(
        ctx: typer.Context,
        context: Annotated[bool, typer.Option(
            "--context", help="treat lines as a dialogue (agent/caller alternate, or 'agent:' / "
            "'caller:' prefixes; an empty line ends a dialogue): the agent's question informs "
            "the caller's answer")] = False,
        as_json: Annotated[bool, typer.Option(
            "--json", help="one JSON object per line: text and entities (type, start, end, "
            "score), never the values")] = False,
    ) -> None:
        """Redact PII from stdin, one utterance per line, to stdout (line count and order kept)."""
        if ctx.invoked_subcommand is not None:
            return
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

    redact_app.command("reprocess")(reprocess)
    app.add_typer(redact_app, name="redact")
    app.add_typer(export_app, name="export")


def reprocess(
    tenant: Annotated[str, typer.Option("--tenant", help="tenant id")],
    policy: Annotated[Path | None, typer.Option(
        "--policy", help="a policy JSON file to make the tenant's policy first",
        exists=True, dir_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print counts as JSON")] = False,
) -> None:
    """Re-redact the tenant's ended sessions after a policy change (or a newer transcript)."""
    import asyncio

    from services.platform.db import make_async_engine
    from services.platform.keys import key_provider
    from services.platform.settings import load_settings
    from services.redaction import repository
    from services.redaction.engine import shared_engine
    from services.redaction.policy import RedactionPolicy
    from services.redaction.worker import reprocess as run_reprocess

    settings = load_settings()
    new_policy = None
    if policy is not None:
        try:
            new_policy = RedactionPolicy.model_validate_json(policy.read_bytes())
        except ValueError as exc:
            typer.echo(f"error: {policy} is not a valid redaction policy "
                       f"({len(getattr(exc, 'errors', list)())} problem(s))", err=True)
            raise typer.Exit(2) from None

    async def main() -> dict[str, object]:
        db = make_async_engine(settings, pool_size=2)
        try:
            if new_policy is not None:
                async with db.begin() as conn:
                    await repository.set_policy(conn, tenant, new_policy)
            async with db.connect() as conn:
                current = await repository.current_policy(conn, tenant)
            done = await run_reprocess(
                db, shared_engine(settings.spacy_model, settings.redaction_batch_size),
                key_provider(settings), tenant,
                lambda m: typer.echo(m, err=True))
        finally:
            await db.dispose()
        return {"tenant": tenant, "policy_version": current.version,
                "policy_hash": current.policy_hash, **asdict(done)}

    result = asyncio.run(main())
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"{result['redacted']} redacted, {result['unchanged']} unchanged, "
                   f"{result['pending']} pending (policy v{result['policy_version']})")


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
