"""Acceptance: `voxledger replay` rebuilds catalog, transcripts, audio and redaction from the ledger
and finds them identical to the live projections; an edited turn, an edited redacted turn or a
changed recording byte is named."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import text

from services.audio.consumer import AudioRecorder
from services.evidence.replay import replay
from services.ledger.catalog import SessionCatalog
from services.platform.keys import LocalKeyProvider
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.redaction.engine import shared_engine
from services.simulator import simulate
from services.transcripts.consumer import make_transcripts
from tests.conftest import REPO
from tests.integration.consumers import isolate, running, wait_for
from tests.integration.ledger_helpers import TenantSealer
from tests.integration.redaction_helpers import redaction_for

pytestmark = pytest.mark.integration

PROVIDERS = ("openai", "openai-beta", "gemini", "elevenlabs", "twilio", "custom")


def _cli(tenant: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.cli", "replay", "--tenant", tenant,
                           "--json"], cwd=REPO, capture_output=True, text=True, timeout=600,
                          check=False)


async def test_replay_matches_live_projections_and_names_tampering(settings: Settings,
                                                                   tenant: str) -> None:
    sealer = TenantSealer(settings, tenant)
    sims = []
    for seed, provider in enumerate(PROVIDERS, start=1):
        sims += await simulate(settings, provider, 1, seed, tenant)
    published = sum(s.events for s in sims)
    keys = LocalKeyProvider.from_file(settings.keyring_path)
    s3 = make_s3_client(settings)
    catalog = isolate(SessionCatalog(), "catalog", tenant)
    builder = isolate(make_transcripts(settings), "transcripts", tenant)
    audio = AudioRecorder(settings, keys, s3, tenant=tenant)
    try:
        await sealer.start()
        async with running(settings, catalog), running(settings, builder), \
                running(settings, redaction_for(settings, tenant)):
            await sealer.wait_for(published)

            async def caught_up() -> bool:
                async with sealer.engine.connect() as conn:
                    frames = (await conn.execute(text(
                        "SELECT coalesce(sum(frames), 0) FROM transcript_sessions "
                        "WHERE tenant_id = :t"), {"t": tenant})).scalar_one()
                    events = (await conn.execute(text(
                        "SELECT coalesce(sum(events), 0) FROM sessions WHERE tenant_id = :t"),
                        {"t": tenant})).scalar_one()
                    redacted = (await conn.execute(text(
                        "SELECT count(*) FROM redaction_sessions WHERE tenant_id = :t AND "
                        "source_frames = expected_frames"), {"t": tenant})).scalar_one()
                return int(frames) == int(events) == published and redacted == len(sims)

            await wait_for(caught_up)
        await sealer.stop()
        for _ in range(40):
            await audio.poll(sealer.engine)
            if audio.completed >= len(sims):
                break
        assert audio.completed >= len(sims)

        redactor = shared_engine(settings.spacy_model, settings.redaction_batch_size)
        report = await replay(sealer.engine, keys, s3, settings.bucket_ledger,
                              settings.bucket_audio, tenant=tenant, redactor=redactor)
        assert report.ok, [str(d) for d in report.differences]
        assert report.sessions == len(sims)
        assert set(report.projections) == {"catalog", "transcripts", "audio", "redaction"}
        for name, p in report.as_json()["projections"].items():
            assert p["identical"] and p["rows"] > 0 and not p["skipped"], name
        cli = _cli(tenant)
        assert cli.returncode == 0, cli.stderr
        before = report.as_json()["projections"]

        # The catalog's and the transcripts' tables emptied and their positions forgotten: a
        # restart rebuilds them from the ledger to the same digests.
        async with sealer.engine.begin() as conn:
            for table in ("sessions", "transcript_sessions", "transcript_turns", "tool_calls"):
                await conn.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"),
                                   {"t": tenant})
            await conn.execute(text(
                "DELETE FROM projection_positions WHERE tenant_id = :t AND projection IN "
                "(:c, :b)"), {"t": tenant, "c": catalog.name, "b": builder.name})
        async with running(settings, catalog), running(settings, builder):
            await wait_for(caught_up)
        rebuilt = (await replay(sealer.engine, keys, s3, settings.bucket_ledger,
                                settings.bucket_audio, tenant=tenant,
                                projections=("catalog", "transcripts"))).as_json()["projections"]
        for name in ("catalog", "transcripts"):
            assert rebuilt[name]["identical"], name
            assert rebuilt[name]["digest_live"] == before[name]["digest_live"], name

        # One redacted turn edited (a leak written into the redacted text): named.
        target = sims[2].session_id
        async with sealer.engine.begin() as conn:
            changed = (await conn.execute(text(
                "UPDATE redacted_turns SET text = text || ' 555-0100' WHERE tenant_id = :t AND "
                "session_id = :s AND ordinal = 0"), {"t": tenant, "s": target})).rowcount
        assert changed == 1
        report = await replay(sealer.engine, keys, s3, settings.bucket_ledger,
                              settings.bucket_audio, tenant=tenant, projections=("redaction",),
                              redactor=redactor)
        assert [(d.projection, d.table, d.session_id) for d in report.differences] == [
            ("redaction", "redacted_turns", target)]
        async with sealer.engine.begin() as conn:  # put back for the checks below
            await conn.execute(text(
                "UPDATE redacted_turns SET text = left(text, length(text) - 9) WHERE "
                "tenant_id = :t AND session_id = :s AND ordinal = 0"), {"t": tenant, "s": target})

        # One stored turn edited: replay names the projection, the table and the session.
        target = sims[0].session_id
        async with sealer.engine.begin() as conn:
            changed = (await conn.execute(text(
                "UPDATE transcript_turns SET heard_text = 'edited' WHERE tenant_id = :t AND "
                "session_id = :s AND ordinal = 1"), {"t": tenant, "s": target})).rowcount
        assert changed == 1
        cli = _cli(tenant)
        assert cli.returncode == 1, cli.stderr
        out = json.loads(cli.stdout)
        assert not out["ok"] and not out["projections"]["transcripts"]["identical"]
        assert all(out["projections"][p]["identical"] for p in ("catalog", "audio", "redaction"))
        first = out["differences"][0]
        assert (first["projection"], first["table"], first["session_id"]) == (
            "transcripts", "transcript_turns", target)
        assert f"session {target}" in cli.stderr

        # One byte of a stored recording changed in S3.
        other = sims[1].session_id
        async with sealer.engine.connect() as conn:
            key = (await conn.execute(text(
                "SELECT object_key FROM audio_recordings WHERE tenant_id = :t AND "
                "session_id = :s AND kind = 'heard'"), {"t": tenant, "s": other})).scalar_one()
        body = bytearray(s3.get_object(Bucket=settings.bucket_audio, Key=key)["Body"].read())
        body[len(body) // 2] ^= 0x01
        s3.put_object(Bucket=settings.bucket_audio, Key=key, Body=bytes(body))
        report = await replay(sealer.engine, keys, s3, settings.bucket_ledger,
                              settings.bucket_audio, tenant=tenant, projections=("audio",))
        assert not report.ok
        assert [(d.table, d.session_id) for d in report.differences] == [
            ("audio_recordings", other)]
    finally:
        await audio.close()
        await sealer.close()
