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
# 3-500 characters, at least one visible, no control characters (NUL, newlines): the reason is
# sealed in the ledger verbatim and printed by `voxledger access-log`.
REASON_PATTERN: Final = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
_REASON = Query(min_length=3, max_length=500, pattern=REASON_PATTERN,
                description="why you read this (3-500 characters); sealed in the access log")
Reason = Annotated[str | None, _REASON]
RequiredReason = Annotated[str, _REASON]
# ISO 8601 text only: pydantic would also take a number as a Unix time, which the schema's
# `date-time` does not allow.
ISO_PATTERN: Final = (r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                      r"(Z|[+-]\d{2}:\d{2})?)?$")
Since = Annotated[str | None, Query(max_length=40, pattern=ISO_PATTERN,
                                    description="started at or after (ISO 8601; UTC if no zone)")]
Until = Annotated[str | None, Query(max_length=40, pattern=ISO_PATTERN,
                                    description="started before (ISO 8601; UTC if no zone)")]
Provider = Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9-]{1,32}$")]
Held = Annotated[bool | None, Query(
    description="only calls an active legal hold covers (true) or none covers (false)")]
Erased = Annotated[bool | None, Query(
    description="only calls whose data key is destroyed (erasure or retention; true) or not")]


class View(StrEnum):
    METADATA = "metadata"
    REDACTED = "redacted"
    ORIGINAL = "original"


class SearchView(StrEnum):
    REDACTED = "redacted"
    ORIGINAL = "original"


def utc(value: datetime | str | None, name: str = "since/until") -> datetime | None:
    """An aware datetime (UTC when no zone is given); 422 naming ``name`` if unparsable."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise bad_request(f"{name}: not a valid ISO 8601 date or date-time") from None
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
