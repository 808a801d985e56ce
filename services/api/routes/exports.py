"""Training exports for the ``data`` role: start one, read its status and its manifest.

An export holds redacted, consented text only (``services/redaction/export_run.py``); starting
one is sealed as ``access.export`` (a bulk read of the tenant's redacted transcripts).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from schemas.api import TrainingExportStatus
from services.api import access
from services.api.auth import allow
from services.api.params import ISO_PATTERN, iso, utc
from services.api.problems import ApiProblem, not_found, problem_responses
from services.api.state import ApiState, St
from services.api.tokens import Principal, Role
from services.redaction.export import ExportFormat

router = APIRouter(prefix="/exports/training", tags=["exports"])
DATA = allow(Role.DATA)
ExportId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="export id")]


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: ExportFormat = ExportFormat.OPENAI_CHAT
    since: str | None = Field(default=None, max_length=40, pattern=ISO_PATTERN,
                              description="only sessions started at or after (ISO date/time)")


@router.post("", response_model=TrainingExportStatus, status_code=201,
             responses=problem_responses(400, 401, 403, 422, 429, 502, 503))
async def start(req: ExportRequest, who: Annotated[Principal, Depends(DATA)],
                st: St) -> TrainingExportStatus:
    """Export the tenant's consented, redacted sessions to S3 (JSONL + manifest). The same
    parameters and sessions give the same export id."""
    from services.redaction.export_run import export_training

    since = utc(req.since, "since")
    await access.record(st, who, "export", "POST /v1/exports/training", reason=None,
                        sessions=[], format=req.format.value, since=iso(since))
    try:
        result = await export_training(st.engine, st.s3, st.settings.bucket_exports,
                                       who.tenant_id, fmt=req.format, since=since)
    except (BotoCoreError, ClientError):
        raise ApiProblem(502, "store-failed", "Export failed",
                         "the object store failed; the export can be started again") from None
    return await _status(st, who.tenant_id, result.export_id)


async def _status(st: ApiState, tenant: str, export: str) -> TrainingExportStatus:
    from services.redaction.export_repository import export_row

    async with st.engine.connect() as conn:
        row = await export_row(conn, tenant, export)
    if row is None:
        raise not_found("export")
    return TrainingExportStatus(
        export_id=row["export_id"], format=row["format"], since=iso(row["since"]),
        sessions=row["sessions"], complete=row["manifest_sha256"] is not None,
        manifest_sha256=row["manifest_sha256"], created_at=row["created_at"].isoformat(),
        updated_at=row["updated_at"].isoformat())


@router.get("/{export_id}", response_model=TrainingExportStatus,
            responses=problem_responses(401, 403, 404, 422, 429))
async def status(export_id: ExportId, who: Annotated[Principal, Depends(DATA)],
                 st: St) -> TrainingExportStatus:
    """Whether the export is complete, with its counts."""
    return await _status(st, who.tenant_id, export_id)


@router.get("/{export_id}/manifest", response_model=dict[str, Any],
            responses=problem_responses(401, 403, 404, 409, 422, 429, 502))
async def manifest(export_id: ExportId, who: Annotated[Principal, Depends(DATA)],
                   st: St) -> dict[str, Any]:
    """The export's manifest (counts, file keys and hashes, policy), checked against the
    SHA-256 recorded when it was written."""
    from services.redaction.export_repository import export_row

    async with st.engine.connect() as conn:
        row = await export_row(conn, who.tenant_id, export_id)
    if row is None:
        raise not_found("export")
    if row["manifest_sha256"] is None:
        raise ApiProblem(409, "export-incomplete", "Export incomplete",
                         "the export is still being written (or died); start it again")

    def fetch() -> bytes:
        return bytes(st.s3.get_object(Bucket=row["bucket"], Key=row["manifest_key"])["Body"].read())

    try:
        body = await asyncio.to_thread(fetch)
    except (BotoCoreError, ClientError):
        raise ApiProblem(502, "store-failed", "Manifest unreadable",
                         "the object store did not return the manifest") from None
    if hashlib.sha256(body).hexdigest() != row["manifest_sha256"]:
        raise ApiProblem(502, "manifest-altered", "Manifest altered",
                         "the stored manifest does not match its recorded SHA-256")
    loaded: dict[str, Any] = json.loads(body)
    return loaded
