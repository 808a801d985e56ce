"""``voxledger simulate``: realistic sessions for each provider, published through the SDK."""

from __future__ import annotations

import json
from typing import Annotated

import typer

PROVIDER_CHOICES = ("openai", "openai-beta", "gemini", "elevenlabs", "twilio", "custom", "all")


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        provider: Annotated[str, typer.Option(
            help="openai | openai-beta | gemini | elevenlabs | twilio (phone bridged to OpenAI) "
                 "| custom | all")] = "openai",
        sessions: Annotated[int, typer.Option(min=1, max=1000,
                                              help="sessions per provider")] = 1,
        seed: Annotated[int | None, typer.Option(
            help="same seed, same scripts and frames; default: a random one (printed)")] = None,
        tenant: Annotated[str, typer.Option(help="tenant id ([a-z0-9-])")] = "demo",
        realtime: Annotated[bool, typer.Option(
            "--realtime", help="pace frames on the wall clock (default: full speed)")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
        subject_phone: Annotated[str | None, typer.Option(
            help="the caller's phone (any common format; +country for non-US numbers)")] = None,
        subject_email: Annotated[str | None, typer.Option(help="the caller's email")] = None,
        customer_id: Annotated[str | None, typer.Option(help="the caller's customer id")] = None,
    ) -> None:
        """Publish simulated voice sessions (audio, barge-ins, tool calls, spoken PII, consent)."""
        import asyncio
        import re

        import nats.errors

        from services.platform.settings import load_settings
        from services.simulator.run import SimulationError, random_seed
        from services.simulator.run import simulate as run_simulation

        if provider not in PROVIDER_CHOICES:
            typer.echo(f"error: unknown provider {provider!r}; choose from "
                       f"{', '.join(PROVIDER_CHOICES)}", err=True)
            raise typer.Exit(2)
        if not re.fullmatch(r"[a-z0-9-]{1,63}", tenant):
            typer.echo("error: --tenant must match [a-z0-9-]{1,63}", err=True)
            raise typer.Exit(2)
        from services.ledger.subjects import normalize
        from services.simulator.run import SubjectOverride

        phone = normalize("phone_e164", subject_phone) if subject_phone else None
        if phone is not None and not re.fullmatch(r"\+[1-9][0-9]{6,14}", phone):
            typer.echo("error: --subject-phone is not a phone number (add +country code)",
                       err=True)
            raise typer.Exit(2)
        if subject_email is not None and ("@" not in subject_email or len(subject_email) > 254):
            typer.echo("error: --subject-email is not an email address", err=True)
            raise typer.Exit(2)
        subject = SubjectOverride(phone, subject_email, customer_id)
        if seed is None:
            seed = random_seed()
        typer.echo(f"simulating {sessions} session(s) of {provider} with seed {seed} "
                   f"for tenant {tenant}", err=True)
        settings = load_settings()
        try:
            results = asyncio.run(run_simulation(
                settings, provider, sessions, seed, tenant, realtime,
                progress=lambda line: typer.echo(f"  {line}", err=True), subject=subject))
        except (SimulationError, OSError, TimeoutError, nats.errors.Error) as exc:
            typer.echo(f"error: simulation failed: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(1) from None
        total = sum(r.events for r in results)
        typer.echo(f"published {len(results)} session(s), {total} events", err=True)
        if as_json:
            print(json.dumps({"sessions": [r.model_dump(mode="json") for r in results]}))
