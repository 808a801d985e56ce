"""Where capability commands join the ``voxledger`` CLI (one line per capability)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from services.runner.cli import register as runner

    runner(app)
    from services.simulator.cli import register as simulator

    simulator(app)
    from services.ledger.sessions_cli import register as sessions

    sessions(app)
    from services.ledger.proof_cli import register as proofs

    proofs(app)
    from services.providers.cli import register as providers

    providers(app)
    from services.ledger.cli import register as ledger

    ledger(app)
    from services.redaction.cli import register as redaction

    redaction(app)
    from services.transcripts.cli import register as transcripts

    transcripts(app)
    from services.audio.cli import register as audio

    audio(app)
    from services.bench.cli import register as bench

    bench(app)
    from services.platform.asyncapi_cli import register as asyncapi

    asyncapi(app)
    from services.platform.deadletter_cli import register as deadletters

    deadletters(app)
    from services.retention.cli import register as retention

    retention(app)
    from services.api.cli import register as api

    api(app)
    from services.evidence.replay_cli import register as replay

    replay(app)
    # Isolation and operations (issue 12): tenants' NATS credentials.
    from services.platform.tenants_cli import register as tenants

    tenants(app)
    from services.erasure.cli import register as erasure

    erasure(app)
    from services.evidence.cli import register as evidence

    evidence(app)
