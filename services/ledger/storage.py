"""S3 side of the ledger: raw audio objects and WORM checkpoint copies (blocking: use threads).

Object keys carry tenant and session ids and positions only (law 7). Checkpoints go to the WORM
bucket under object lock in COMPLIANCE mode: no one, root included, can delete or shorten them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from services.platform.settings import Settings

CHECKPOINT_PREFIX = "checkpoints"
COSIGNED_PREFIX = "cosigned"


def checkpoint_key(tenant: str, size: int) -> str:
    return f"{CHECKPOINT_PREFIX}/{tenant}/{size:020d}.checkpoint"


def cosigned_key(tenant: str, size: int, witness_tag: str) -> str:
    return f"{COSIGNED_PREFIX}/{tenant}/{size:020d}.{witness_tag}.checkpoint"


class LedgerStorage:
    def __init__(self, settings: Settings, client: Any) -> None:
        self.client = client
        self.bucket = settings.bucket_ledger
        self.worm_bucket = settings.bucket_worm
        self.retention = timedelta(days=settings.worm_retention_days)

    def put_segment(self, key: str, ciphertext: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=ciphertext,
                               ContentType="application/octet-stream",
                               ChecksumSHA256=_b64sha(ciphertext))

    def get_segment(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def get_part(self, key: str, offset: int, length: int) -> bytes:
        """One session's part of a batch object (services/ledger/segments.py): a ranged GET."""
        if length <= 0:
            return b""
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key,
                                            Range=f"bytes={offset}-{offset + length - 1}"
                                            )["Body"].read())

    def put_cosigned(self, key: str, note: str) -> None:
        self.put_checkpoint(key, note)

    def get_version(self, key: str, version_id: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.worm_bucket, Key=key,
                                            VersionId=version_id)["Body"].read())

    def list_versions(self, prefix: str) -> dict[str, list[dict[str, Any]]]:
        """Every version of every WORM object under ``prefix``, oldest first, by key.

        Verify reads these instead of "latest": on a store where a put over a locked key succeeds
        and becomes the latest version, the first version is the record.
        """
        out: dict[str, list[dict[str, Any]]] = {}
        kwargs: dict[str, Any] = {"Bucket": self.worm_bucket, "Prefix": prefix}
        while True:
            page = self.client.list_object_versions(**kwargs)
            for v in page.get("Versions", []):
                out.setdefault(v["Key"], []).append(v)
            for m in page.get("DeleteMarkers", []):
                out.setdefault(m["Key"], []).append(m | {"DeleteMarker": True})
            if not page.get("IsTruncated"):
                break
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = page.get("NextVersionIdMarker")
        for versions in out.values():
            versions.sort(key=lambda v: (v["LastModified"], str(v.get("VersionId"))))
        return out

    def put_checkpoint(self, key: str, note: str) -> None:
        body = note.encode()
        self.client.put_object(
            Bucket=self.worm_bucket, Key=key, Body=body, ContentType="text/plain; charset=utf-8",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=datetime.now(UTC) + self.retention,
            ChecksumSHA256=_b64sha(body),
        )

    def get_checkpoint(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.worm_bucket, Key=key)["Body"].read())


def _b64sha(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode()
