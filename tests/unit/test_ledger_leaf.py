"""Leaf data is canonical, commits to every listed field, and carries no payload content."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.ledger.leaf import EMPTY_SHA256, LEAF_PREFIX, LeafFields, leaf_data

BASE = LeafFields(
    tenant_id="acme", position=7, event_id="0190c1a2-0000-7000-8000-000000000001",
    session_id="call-1", seq=3, schema_version=1, provider="openai-realtime",
    direction="server", type="response.output_audio.delta",
    recorded_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), mono_ns=123,
    payload_sha256=hashlib.sha256(b"ct").digest(), audio_sha256=EMPTY_SHA256)


def test_layout_is_documented_prefix_plus_sorted_json() -> None:
    data = leaf_data(BASE)
    assert data.startswith(LEAF_PREFIX)
    assert b'"recorded_at":"2026-01-02T03:04:05.678901Z"' in data
    assert data == leaf_data(dataclasses.replace(BASE))


def test_same_instant_in_another_zone_gives_the_same_bytes() -> None:
    other = BASE.recorded_at.astimezone(timezone(timedelta(hours=5)))
    assert leaf_data(dataclasses.replace(BASE, recorded_at=other)) == leaf_data(BASE)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(LeafFields)])
def test_every_field_is_committed(field: str) -> None:
    value = getattr(BASE, field)
    if isinstance(value, bytes):
        changed: object = hashlib.sha256(value).digest()
    elif isinstance(value, int):
        changed = value + 1
    elif isinstance(value, datetime):
        changed = value + timedelta(microseconds=1)
    else:
        changed = value + "x"
    assert leaf_data(dataclasses.replace(BASE, **{field: changed})) != leaf_data(BASE)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        leaf_data(dataclasses.replace(BASE, recorded_at=datetime(2026, 1, 1)))
