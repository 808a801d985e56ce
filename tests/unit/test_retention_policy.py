"""Retention pieces without sockets: period checks, policy resolution, journal bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.platform.settings import SettingsError, load_settings
from services.retention.bounds import check_days
from services.retention.job import JOURNAL_PART_BYTES, journal_bodies
from services.retention.plan import Item
from services.retention.policy import Policies


def test_periods_are_checked_against_the_nats_buffer() -> None:
    check_days("raw_events", 7, 7.0)
    check_days("recordings", 1, 7.0)  # only raw data sits in the JetStream buffer
    check_days("raw_events", None, 7.0)
    with pytest.raises(ValueError, match="shorter than the NATS buffer"):
        check_days("raw_events", 6, 7.0)
    with pytest.raises(ValueError, match="shorter than the NATS buffer"):
        check_days("raw_events", 7, 7.5)
    with pytest.raises(ValueError, match="unknown data class"):
        check_days("audio", 30, 7.0)
    with pytest.raises(ValueError, match="between 0"):
        check_days("transcripts", -1, 7.0)


def test_settings_refuse_defaults_shorter_than_the_buffer(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("VOXLEDGER_RETENTION_DEFAULTS", '{"raw_events": 3}')
    with pytest.raises(SettingsError, match="NATS buffer"):
        load_settings(use_env_file=False)
    monkeypatch.setenv("VOXLEDGER_RETENTION_DEFAULTS", '{"raw_events": 3, "recordings": null}')
    monkeypatch.setenv("VOXLEDGER_STREAM_MAX_AGE_DAYS", "2")
    s = load_settings(use_env_file=False)
    assert s.retention_defaults == {"raw_events": 3, "recordings": None}
    monkeypatch.setenv("VOXLEDGER_RETENTION_DEFAULTS", '{"voicemail": 3}')
    with pytest.raises(SettingsError, match="unknown data class"):
        load_settings(use_env_file=False)


def test_resolution_named_class_then_tenant_then_default_then_forever() -> None:
    p = Policies("acme", {"recordings": 365, "transcripts": 2555},
                 tenant={"recordings": 90, "raw_events": None},
                 named={"pci": {"recordings": 30}, "legal": {"transcripts": None}})
    assert p.days("recordings") == 90 and p.source("recordings") == "tenant"
    assert p.days("recordings", "pci") == 30 and p.source("recordings", "pci") == "class:pci"
    assert p.days("recordings", "standard") == 90
    assert p.days("transcripts") == 2555 and p.source("transcripts") == "default"
    assert p.days("transcripts", "legal") is None  # a named class may keep forever
    assert p.days("raw_events") is None and p.source("raw_events") == "tenant"
    assert p.days("dead_letters") is None and p.source("dead_letters") == "forever"
    assert p.finite()
    assert not Policies("x", {}).finite()


def test_journal_bodies_carry_ids_counts_and_matters_in_parts_under_the_limit() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    items = [Item(f"session-{i:05d}-" + "x" * 100, "recordings", "standard", 400, "disposed")
             for i in range(1200)]
    items.append(Item("held-one", "recordings", "standard", 400, "held", matter="M-7"))
    items.append(Item("failed-one", "transcripts", "standard", 400, "failed"))
    bodies = journal_bodies("run-1", at, items)
    assert len(bodies) > 1
    assert all(len(json.dumps(b)) < 64 * 1024 for b in bodies)
    assert all(len(json.dumps(b)) < JOURNAL_PART_BYTES + 4096 for b in bodies)
    assert [b["part"] for b in bodies] == list(range(1, len(bodies) + 1))
    assert bodies[0]["classes"] == {"recordings": {"disposed": 1200, "held": 1, "failed": 0},
                                    "transcripts": {"disposed": 0, "held": 0, "failed": 1}}
    ids = [s for b in bodies for s in b.get("disposed", {}).get("recordings", [])]
    assert ids == [i.session_id for i in items[:1200]]
    held = [h for b in bodies for h in b.get("held", {}).get("recordings", [])]
    assert held == [{"session_id": "held-one", "matter": "M-7"}]
    empty = journal_bodies("run-2", at, [])
    assert empty == [{"run_id": "run-2", "as_of": at.isoformat(), "part": 1, "parts": 1,
                      "classes": {}}]


def test_a_raw_period_the_nats_buffer_outlasts_is_reported() -> None:
    p = Policies("acme", {}, tenant={"raw_events": 10}, named={"pci": {"raw_events": 8}})
    assert p.alignment_warnings(7.0) == []
    warnings = p.alignment_warnings(9.0)
    assert len(warnings) == 1 and "class pci" in warnings[0] and "NATS buffer" in warnings[0]
    assert len(p.alignment_warnings(30.0)) == 2
