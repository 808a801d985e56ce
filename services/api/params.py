"""Shared request parameters and small conversions of the routes."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Final

from fastapi import Path, Query

from services.api.problems import bad_request

SESSION_PATTERN: Final = r"^[A-Za-z0-9-][A-Za-z0-9_-]{0,127}$"  # "_…" ids are reserved
SessionId = Annotated[str, Path(pattern=SESSION_PATTERN, description="session id")]
Reason = Annotated[str | None, Query(
    max_length=500, description="why you read this (3-500 characters); sealed in the access log")]
Since = Annotated[datetime | None, Query(description="started at or after (ISO 8601; UTC if no zone)")]
Until = Annotated[datetime | None, Query(description="started before (ISO 8601)")]
Provider = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9-]{1,32}$")]


class View(StrEnum):
    METADATA = "metadata"
    REDACTED = "redacted"
    ORIGINAL = "original"


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def encode_cursor(at: datetime, session: str) -> str:
    raw = json.dumps([at.isoformat(), session], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, session = json.loads(raw)
        parsed = datetime.fromisoformat(at)
        if not isinstance(session, str) or parsed.tzinfo is None:
            raise ValueError
        return parsed, session
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise bad_request("cursor: not a cursor this API returned") from None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
