"""Does the object store enforce object lock? A canary, because S3-compatible stores have been
seen accepting legal holds and COMPLIANCE retention they do not enforce (seaweedfs#11333).

- legal hold: a fresh object version with legal hold ON; deleting that version must fail; then
  the hold is switched OFF and the version deleted (nothing left behind);
- compliance retention: one object ``canary/compliance`` retained one day in COMPLIANCE mode;
  deleting its current version must fail. A new version is written only when the last has
  expired, so the canary leaves at most one small object a day.

Both run in the ledger bucket (created with object lock). ``enforced`` is False when a delete
that must fail succeeded, None when the check itself could not run (the reason is in ``detail``).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from services.platform.settings import Settings

PREFIX = "canary"


@dataclass
class Check:
    enforced: bool | None
    detail: str


@dataclass
class CanaryReport:
    legal_hold: Check
    compliance: Check
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.legal_hold.enforced and self.compliance.enforced)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "legal_hold": asdict(self.legal_hold),
                "compliance": asdict(self.compliance), "warnings": self.warnings}


def _delete_must_fail(client: Any, bucket: str, key: str, version: str) -> bool:
    try:
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)
    except ClientError:
        return True
    return False


def _legal_hold(client: Any, bucket: str) -> Check:
    key = f"{PREFIX}/legal-hold/{uuid.uuid4()}"
    version = str(client.put_object(Bucket=bucket, Key=key, Body=b"canary")["VersionId"])
    client.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=version,
                                 LegalHold={"Status": "ON"})
    refused = _delete_must_fail(client, bucket, key, version)
    if refused:
        client.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=version,
                                     LegalHold={"Status": "OFF"})
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)
        return Check(True, "a delete of a version under legal hold was refused")
    return Check(False, "the store DELETED an object version under legal hold")


def _compliance(client: Any, bucket: str, now: datetime) -> Check:
    key = f"{PREFIX}/compliance"
    version = None
    try:
        head = client.head_object(Bucket=bucket, Key=key)
        until = head.get("ObjectLockRetainUntilDate")
        if until is not None and until > now + timedelta(minutes=5):
            version = str(head["VersionId"])
    except ClientError:
        pass
    if version is None:
        version = str(client.put_object(
            Bucket=bucket, Key=key, Body=b"canary", ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=now + timedelta(days=1))["VersionId"])
    if _delete_must_fail(client, bucket, key, version):
        return Check(True, "a delete of a version under COMPLIANCE retention was refused")
    return Check(False, "the store DELETED an object version under COMPLIANCE retention")


def run_canary(settings: Settings, client: Any) -> CanaryReport:
    """Blocking (boto3); never raises for store errors: they are reported as not checked."""
    from services.retention.locks import has_object_lock

    bucket = settings.bucket_ledger
    report = CanaryReport(Check(None, "not run"), Check(None, "not run"))
    try:
        report.legal_hold = _legal_hold(client, bucket)
    except (ClientError, BotoCoreError, KeyError) as exc:
        report.legal_hold = Check(None, f"could not run ({type(exc).__name__})")
    try:
        report.compliance = _compliance(client, bucket, datetime.now(UTC))
    except (ClientError, BotoCoreError, KeyError) as exc:
        report.compliance = Check(None, f"could not run ({type(exc).__name__})")
    try:
        if not has_object_lock(client, settings.bucket_audio):
            report.warnings.append(
                f"audio bucket {settings.bucket_audio} has no object lock: legal holds cannot "
                "lock recordings (object lock is only set at creation; set VOXLEDGER_BUCKET_AUDIO "
                "to a new name and run `voxledger up`, then `voxledger audio rebuild`)")
    except (ClientError, BotoCoreError) as exc:
        report.warnings.append(f"audio bucket lock state unknown ({type(exc).__name__})")
    return report


def describe(report: CanaryReport) -> list[str]:
    """Lines for `up` and `status`; loud when a lock is not enforced."""
    lines = []
    for name, check in (("legal hold", report.legal_hold), ("compliance retention",
                                                            report.compliance)):
        if check.enforced:
            lines.append(f"object lock canary: {name} enforced")
        elif check.enforced is False:
            lines.append(f"WARNING: OBJECT LOCK NOT ENFORCED: {check.detail}; legal holds and "
                         "WORM checkpoints are NOT protected by this store")
        else:
            lines.append(f"WARNING: object lock canary ({name}) {check.detail}")
    return lines + [f"WARNING: {w}" for w in report.warnings]
