"""Delete every object and object version under a prefix (blocking: call through a thread).

Versioned buckets keep old versions after a plain delete, so erasure lists versions and delete
markers and removes each by version id. An object under object lock cannot be deleted before its
retain-until date: it is reported back (key and date, never content) to be listed as put beyond
use in the certificate — its bytes are ciphertext under a destroyed key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class PrefixDeletion:
    deleted: int = 0
    locked: list[tuple[str, datetime | None]] = field(default_factory=list)


def list_versions(client: Any, bucket: str, prefix: str) -> list[tuple[str, str | None]]:
    """Every (key, version id) under ``prefix``, delete markers included."""
    out: list[tuple[str, str | None]] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = client.list_object_versions(**kwargs)
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            out.append((item["Key"], item.get("VersionId")))
        if not page.get("IsTruncated"):
            break
        kwargs["KeyMarker"] = page.get("NextKeyMarker")
        if page.get("NextVersionIdMarker"):
            kwargs["VersionIdMarker"] = page["NextVersionIdMarker"]
    # A bucket without versioning may list nothing here on some servers: fall back to keys.
    seen = {k for k, _ in out}
    for key in list_keys(client, bucket, prefix):
        if key not in seen:
            out.append((key, None))
    return out


def list_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def delete_versions(client: Any, bucket: str, items: list[tuple[str, str | None]]
                    ) -> PrefixDeletion:
    result = PrefixDeletion()
    for key, version in items:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version and version != "null":
            kwargs["VersionId"] = version
        try:
            client.delete_object(**kwargs)
            result.deleted += 1
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "NoSuchVersion", "404"):
                continue
            if code in ("AccessDenied", "ObjectLocked", "InvalidRequest"):
                result.locked.append((key, _retain_until(client, bucket, key, version)))
                continue
            raise
    return result


def delete_prefix(client: Any, bucket: str, prefix: str) -> PrefixDeletion:
    return delete_versions(client, bucket, list_versions(client, bucket, prefix))


def _retain_until(client: Any, bucket: str, key: str, version: str | None) -> datetime | None:
    try:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version and version != "null":
            kwargs["VersionId"] = version
        until = client.get_object_retention(**kwargs)["Retention"].get("RetainUntilDate")
        return until if isinstance(until, datetime) else None
    except ClientError:
        return None
