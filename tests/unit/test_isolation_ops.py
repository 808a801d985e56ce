"""Unit tests of issue 12's operations half: secret files, key provider policy, tenant registry and
NATS authorization, JSON logs, metrics rendering."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from pathlib import Path

import bcrypt
import pytest

from services.platform.keys import KeyError_, LocalKeyProvider, key_provider
from services.platform.secretfile import create_secret, open_private_log, write_secret
from services.platform.settings import load_settings
from services.platform.tenants import (
    TenantError,
    TenantRegistry,
    derive_password,
    gateway_inbox_prefix,
)
from services.runner.logs import JsonFormatter
from services.runner.metrics import Snapshot, StateCollector, reason_code


@pytest.fixture
def open_umask() -> object:
    old = os.umask(0)  # the worst case: every file would be created 0666
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_files_are_0600_from_creation_even_with_an_open_umask(tmp_path: Path,
                                                                     open_umask: object) -> None:
    path = tmp_path / "env"
    path.write_text("old")  # an older file of looser mode is replaced, not rewritten in place
    os.chmod(path, 0o644)
    write_secret(path, "SECRET=1\n")
    assert mode(path) == 0o600 and path.read_text() == "SECRET=1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["env"]  # no temporary left behind
    key = tmp_path / "keys" / "keyring.json"
    assert create_secret(key, "one") and not create_secret(key, "two")
    assert mode(key) == 0o600 and key.read_text() == "one"
    assert LocalKeyProvider.create_file(tmp_path / "k2" / "keyring.json")
    assert mode(tmp_path / "k2" / "keyring.json") == 0o600
    log = tmp_path / "logs" / "nats.log"
    os.close(open_private_log(log))
    assert mode(log) == 0o600 and mode(log.parent) == 0o700


def test_production_refuses_the_local_keyring_unless_allowed(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    LocalKeyProvider.create_file(keyring)
    base = {"key_file": keyring, "nats_password": "x" * 20, "s3_secret_key": "y" * 20}
    assert isinstance(key_provider(load_settings(use_env_file=False, **base)), LocalKeyProvider)
    prod = load_settings(use_env_file=False, environment="production", **base)
    with pytest.raises(KeyError_, match="production refuses the local keyring"):
        key_provider(prod)
    allowed = load_settings(use_env_file=False, environment="production",
                            allow_local_keys_in_production=True, **base)
    assert isinstance(key_provider(allowed), LocalKeyProvider)


def kms_factory(settings: object) -> LocalKeyProvider:
    """A stand-in for a KMS-backed provider, loaded by module:factory."""
    return LocalKeyProvider(b"k" * 32)


def test_a_pluggable_provider_is_loaded_by_module_and_factory() -> None:
    name = f"{__name__}:kms_factory"
    prod = load_settings(use_env_file=False, environment="production", key_provider=name,
                         nats_password="x" * 20, s3_secret_key="y" * 20)
    assert isinstance(key_provider(prod), LocalKeyProvider)
    with pytest.raises(KeyError_, match="cannot import"):
        key_provider(load_settings(use_env_file=False, key_provider="nowhere.at_all:f"))


def test_the_registry_renders_publish_only_users_with_bcrypt_hashes(tmp_path: Path) -> None:
    registry = TenantRegistry(tmp_path, "voice")
    row, changed = registry.add("acme", "s3cret")
    assert changed and row.status == "active" and row.nats_user == "gw-acme"
    assert registry.add("acme", "s3cret")[1] is False  # idempotent
    with pytest.raises(TenantError):
        registry.add("Not.A.Tenant", "s3cret")
    creds = {"nats_user": "pipeline", "nats_password": "pw"}
    conf = registry.nats_config(creds, 4222, tmp_path / "data")
    password = registry.credential("acme", "s3cret", None).nats_password
    assert password == derive_password("s3cret", "acme", 1)
    assert password not in conf and '"pw"' not in conf and "s3cret" not in registry.path.read_text()
    assert 'allow: ["voice.acme.>"]' in conf
    assert f'allow: ["{gateway_inbox_prefix("acme")}.>"]' in conf
    assert "$JS" not in conf and "_INBOX.>" not in conf
    stored = json.loads(registry.path.read_text())["tenants"]["acme"]["nats_hash"]
    assert bcrypt.checkpw(password.encode(), stored.encode()) and stored in conf
    assert mode(registry.path) == 0o600
    assert registry.write_config(conf) and not registry.write_config(conf)
    assert mode(registry.conf_path) == 0o600
    # Disabled: gone from the server config; re-added: a new password.
    assert registry.disable("acme")
    assert "gw-acme" not in registry.nats_config(creds, 4222, tmp_path / "data")
    registry.add("acme", "s3cret")
    assert registry.credential("acme", "s3cret", None).nats_password != password


def test_json_logs_carry_no_exception_message() -> None:
    try:
        raise ValueError("DETAIL: Key (phone)=(+14155550123) already exists")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "batch failed (%s)",
                                   ("ValueError",), sys.exc_info())
    line = JsonFormatter().format(record)
    out = json.loads(line)
    assert out["msg"] == "batch failed (ValueError)" and out["exc_type"] == "ValueError"
    assert "+1415" not in line and "\n" not in line


def test_dead_letter_reason_codes_are_bounded_labels() -> None:
    assert reason_code("invalid envelope") == "invalid_envelope"
    assert reason_code("envelope must be a JSON object, got list") == \
        "envelope_must_be_a_json_object_got_list"
    assert reason_code("x" * 100) == "x" * 40 and reason_code("  ") == "unknown"


def test_metrics_render_from_a_snapshot() -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    collector = StateCollector()
    collector.snapshot = Snapshot(sealed=42, lag={"sealer": (3, 2)}, dead={("sealer", "decode"): 1})
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    assert "voxledger_events_sealed_total 42.0" in text
    assert 'voxledger_consumer_lag_messages{consumer="sealer"} 5.0' in text
    assert 'voxledger_dead_letters{consumer="sealer",reason="decode"} 1.0' in text
