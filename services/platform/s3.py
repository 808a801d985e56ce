"""The S3 client (boto3) and bucket provisioning, including object lock for the WORM bucket."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from services.platform.settings import Settings, SettingsError


def make_s3_client(settings: Settings) -> Any:
    if not settings.s3_endpoint or not settings.s3_access_key or not settings.s3_secret_key:
        raise SettingsError(
            "VOXLEDGER_S3_ENDPOINT: S3 endpoint and keys are not set; run `voxledger up` or set "
            "VOXLEDGER_S3_ENDPOINT, VOXLEDGER_S3_ACCESS_KEY and VOXLEDGER_S3_SECRET_KEY"
        )
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key.get_secret_value(),
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def ensure_buckets(settings: Settings, client: Any) -> list[str]:
    """Create the buckets the design needs; object lock can only be switched on at creation."""
    wanted = {
        settings.bucket_ledger: True,  # raw audio segments are evidence: versioned + lockable
        settings.bucket_worm: True,
        # Recordings can carry legal holds (issue 15). A stack whose audio bucket predates this
        # keeps working; the object-lock canary in `up`/`status` says holds cannot lock it.
        settings.bucket_audio: True,
        settings.bucket_exports: False,
    }
    created = []
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket, lock in wanted.items():
        if bucket not in existing:
            client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=lock)
            created.append(bucket)
        if lock and bucket != settings.bucket_audio:
            _check_object_lock(client, bucket)
    return created


def _check_object_lock(client: Any, bucket: str) -> None:
    try:
        conf = client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as exc:
        raise SettingsError(
            f"S3 bucket {bucket} exists without object lock ({exc.response['Error']['Code']}); "
            "object lock can only be enabled at creation - use a new bucket name"
        ) from None
    if conf.get("ObjectLockEnabled") != "Enabled":
        raise SettingsError(f"S3 bucket {bucket} does not have object lock enabled")
