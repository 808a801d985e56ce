"""Training export acceptance against real NATS, Postgres and SeaweedFS: mixed consent exports
only the sessions whose consent covers training at export time; manifest hashes match the objects
in S3; lineage rows exist for every exported session; no raw PII from the scripts; re-running is
idempotent."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.platform.db import make_async_engine
from services.platform.s3 import make_s3_client
from services.platform.settings import Settings
from services.redaction.export import ExportFormat
from services.redaction.export_run import export_training
from services.redaction.models import TrainingExport, TrainingExportSession
from services.simulator import SimulatedSession, simulate
from services.simulator.run import ConsentPlan
from services.simulator.script import build_script
from tests.integration.consumers import running, wait_for
from tests.integration.redaction_helpers import (
    counts,
    leaks,
    redaction_for,
    transcripts_for,
)

pytestmark = pytest.mark.integration

PLANS: dict[str, ConsentPlan] = {
    "none": {},
    "recording only": {"recording": "granted", "transcription": "granted",
                       "training": "declined"},
    "training": {"recording": "granted", "transcription": "granted", "training": "granted"},
    "revoked": {"recording": "granted", "transcription": "granted", "training": "revoked"},
}


async def record_mixed_consent(settings: Settings, tenant: str,
                               sync_engine: Engine) -> dict[str, SimulatedSession]:
    seed = random.randrange(1, 10**6)
    sims = {}
    for k, (case, plan) in enumerate(PLANS.items()):
        [sims[case]] = await simulate(settings, "openai", sessions=1, seed=seed + k,
                                      tenant=tenant, consent=plan)
    seen = counts(sync_engine, tenant)

    async def all_redacted() -> bool:
        return await seen() == (len(PLANS), len(PLANS))
    async with running(settings, transcripts_for(settings, tenant)), \
            running(settings, redaction_for(settings, tenant)):
        await wait_for(all_redacted)
    return sims


def read(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


async def test_mixed_consent_exports_only_training_consent(
        settings: Settings, tenant: str, sync_engine: Engine) -> None:
    sims = await record_mixed_consent(settings, tenant, sync_engine)
    s3 = make_s3_client(settings)
    db = make_async_engine(settings)
    progress: list[str] = []
    try:
        first = await export_training(db, s3, settings.bucket_exports, tenant,
                                      progress=progress.append)
        again = await export_training(db, s3, settings.bucket_exports, tenant)
        as_jsonl = await export_training(db, s3, settings.bucket_exports, tenant,
                                         fmt=ExportFormat.JSONL)
    finally:
        await db.dispose()

    manifest = first.manifest
    assert manifest["counts"]["sessions"] == 1
    assert manifest["counts"]["excluded"]["no_training_consent"] == 3
    assert manifest["policy"]["hash"].startswith("sha256:") and manifest["detector_versions"]
    assert progress, "progress is reported"

    # The manifest in S3 is the one returned, its hash is recorded, and each file matches it.
    stored = read(s3, first.bucket, first.manifest_key)
    assert json.loads(stored) == manifest
    assert hashlib.sha256(stored).hexdigest() == first.manifest_sha256
    lines = []
    for f in manifest["files"]:
        assert f["key"].startswith(f"training/{tenant}/{first.export_id}/")
        body = read(s3, first.bucket, f["key"])
        assert hashlib.sha256(body).hexdigest() == f["sha256"] and len(body) == f["bytes"]
        lines += body.decode().splitlines()
    assert len(lines) == 1
    chat = json.loads(lines[0])
    roles = {m["role"] for m in chat["messages"]}
    # The simulated call uses a tool: its redacted call and result are messages too.
    assert roles == {"user", "assistant", "tool"}
    assert any("tool_calls" in m for m in chat["messages"])
    wanted = sims["training"]
    script = build_script(wanted.seed)
    assert not leaks(lines[0], script), leaks(lines[0], script)
    for case, sim in sims.items():  # nothing of the other sessions either
        assert not leaks(lines[0], build_script(sim.seed)), case

    # Lineage: every exported session, once, even after a re-run with the same parameters.
    assert again.export_id == first.export_id and again.manifest == manifest
    with sync_engine.connect() as conn:
        lineage = conn.execute(select(TrainingExportSession.export_id,
                                      TrainingExportSession.session_id)
                               .where(TrainingExportSession.tenant_id == tenant)).all()
        exports = conn.execute(select(TrainingExport.export_id, TrainingExport.manifest_sha256)
                               .where(TrainingExport.tenant_id == tenant)).all()
    assert sorted(lineage) == sorted([(first.export_id, wanted.session_id),
                                      (as_jsonl.export_id, wanted.session_id)])
    assert dict(exports) == {first.export_id: first.manifest_sha256,
                             as_jsonl.export_id: as_jsonl.manifest_sha256}
    turns = json.loads(read(s3, as_jsonl.bucket, as_jsonl.manifest["files"][0]["key"]))["turns"]
    assert any(t.get("withheld") == "recording.paused" and "text" not in t for t in turns)
