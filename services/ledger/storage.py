"""S3 side of the ledger: raw audio segments and WORM checkpoint copies (blocking: use threads).

Object keys carry tenant and session ids and positions only (law 7). Checkpoints go to the WORM
bucket under object lock in COMPLIANCE mode: no one, root included, can delete or shorten them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from services.platform.settings import Settings

CHECKPOINT_PREFIX = "checkpoints"


def checkpoint_key(tenant: str, size: int) -> str:
    return f"{CHECKPOINT_PREFIX}/{tenant}/{size:020d}.checkpoint"


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
