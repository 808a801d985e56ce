"""The object-lock canary against an in-memory store that accepts locks and may ignore them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from services.platform.settings import Settings
from services.retention.canary import describe, run_canary


class FakeS3:
    """Versions, legal holds and COMPLIANCE retention; ``enforce`` decides whether deletes of
    locked versions are refused (a store that ignores them is what the canary must catch)."""

    def __init__(self, enforce: bool, audio_locked: bool = True) -> None:
        self.enforce, self.audio_locked = enforce, audio_locked
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def put_object(self, Bucket: str, Key: str, Body: bytes, ObjectLockMode: str | None = None,
                   ObjectLockRetainUntilDate: datetime | None = None) -> dict[str, Any]:
        vid = f"v{next(self._ids)}"
        self.objects[(Bucket, Key, vid)] = {"hold": False, "until": ObjectLockRetainUntilDate}
        return {"VersionId": vid}

    def put_object_legal_hold(self, Bucket: str, Key: str, VersionId: str,
                              LegalHold: dict[str, str]) -> None:
        self.objects[(Bucket, Key, VersionId)]["hold"] = LegalHold["Status"] == "ON"

    def delete_object(self, Bucket: str, Key: str, VersionId: str) -> None:
        obj = self.objects[(Bucket, Key, VersionId)]
        if self.enforce and (obj["hold"] or obj["until"] is not None):
            raise ClientError({"Error": {"Code": "AccessDenied"}}, "DeleteObject")
        del self.objects[(Bucket, Key, VersionId)]

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        found = [(k, v) for k, v in self.objects.items() if k[:2] == (Bucket, Key)]
        if not found:
            raise ClientError({"Error": {"Code": "404"}}, "HeadObject")
        (_, _, vid), obj = found[-1]
        return {"VersionId": vid, "ObjectLockRetainUntilDate": obj["until"]}

    def get_object_lock_configuration(self, Bucket: str) -> dict[str, Any]:
        if Bucket.endswith("audio") and not self.audio_locked:
            raise ClientError({"Error": {"Code": "ObjectLockConfigurationNotFoundError"}}, "Get")
        return {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}


def test_an_enforcing_store_passes_and_leaves_one_compliance_object() -> None:
    s3 = FakeS3(enforce=True)
    for _ in range(3):
        report = run_canary(Settings(), s3)
        assert report.ok and report.warnings == []
    # the legal-hold canaries were removed; one compliance canary is reused while it lasts
    assert [k for k in s3.objects] == [("voxledger-ledger", "canary/compliance", "v2")]
    assert all("enforced" in line and "WARNING" not in line for line in describe(report))


def test_a_store_that_ignores_locks_is_reported_loudly() -> None:
    report = run_canary(Settings(), FakeS3(enforce=False, audio_locked=False))
    assert not report.ok
    assert report.legal_hold.enforced is False and report.compliance.enforced is False
    lines = describe(report)
    assert sum("OBJECT LOCK NOT ENFORCED" in line for line in lines) == 2
    assert any("audio bucket" in line and "no object lock" in line for line in lines)
    assert report.as_json()["ok"] is False
