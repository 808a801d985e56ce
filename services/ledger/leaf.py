"""Leaf data: the canonical bytes each Merkle leaf commits to (pure, no I/O).

Layout (version 1)::

    b"voxledger.leaf.v1\\n" || JSON

where JSON is ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`` of
exactly these fields::

    audio_sha256    hex SHA-256 of the frame's audio bytes in order (SHA-256(b"") when none)
    direction       client | server | system
    event_id        UUIDv7, lowercase
    mono_ns         integer
    payload_sha256  hex SHA-256 of the stored payload ciphertext
    position        the leaf index in the tenant's tree
    provider        envelope provider
    recorded_at     UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ"
    schema_version  integer
    seq             integer
    session_id      opaque id (never PII by the envelope contract)
    tenant_id       slug
    type            provider event type

Only non-PII envelope fields appear in clear; the payload is committed through the hash of its
ciphertext (law 5: erasure destroys the key, the leaf still verifies). ``position`` is included so
a row moved to another position no longer matches its own leaf, which lets ``verify`` name the
first moved entry rather than only the checkpoint whose root broke.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

LEAF_PREFIX: Final = b"voxledger.leaf.v1\n"
EMPTY_SHA256: Final = hashlib.sha256(b"").digest()


@dataclass(frozen=True)
class LeafFields:
    tenant_id: str
    position: int
    event_id: str
    session_id: str
    seq: int
    schema_version: int
    provider: str
    direction: str
    type: str
    recorded_at: datetime
    mono_ns: int
    payload_sha256: bytes
    audio_sha256: bytes


def canonical_time(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("recorded_at must be timezone-aware")
    if offset or value.year < 1000:  # strftime does not pad %Y below 1000 (glibc)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text for a UTC time at about a third of strftime's cost (once per sealed
    # event); %-formatting, because f-string format specs cost nearly twice as much here.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond)


def leaf_data(f: LeafFields) -> bytes:
    body = {
        "audio_sha256": f.audio_sha256.hex(),
        "direction": f.direction,
        "event_id": f.event_id,
        "mono_ns": f.mono_ns,
        "payload_sha256": f.payload_sha256.hex(),
        "position": f.position,
        "provider": f.provider,
        "recorded_at": canonical_time(f.recorded_at),
        "schema_version": f.schema_version,
        "seq": f.seq,
        "session_id": f.session_id,
        "tenant_id": f.tenant_id,
        "type": f.type,
    }
    return LEAF_PREFIX + json.dumps(body, sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=True).encode()
