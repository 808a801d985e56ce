"""Settings name the variable that is wrong and refuse placeholders in production."""

from __future__ import annotations

import pytest

from services.platform.settings import SettingsError, load_settings


@pytest.mark.parametrize("var,value", [
    ("VOXLEDGER_STREAM_MAX_AGE_DAYS", "a week"),
    ("VOXLEDGER_ENVIRONMENT", "staging"),
    ("VOXLEDGER_BUCKET_LEDGER", "ab"),
    ("VOXLEDGER_BUCKET_AUDIO", "Not_A_Bucket"),
    ("VOXLEDGER_STACK_NATS_PORT", "70000"),
    ("VOXLEDGER_SEALER_BATCH_SIZE", "0"),
    ("VOXLEDGER_SEALER_BATCH_SIZE", "100000"),
])
def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as info:
        load_settings(use_env_file=False)
    assert var in str(info.value)


def test_placeholder_secret_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXLEDGER_ENVIRONMENT", "production")
    monkeypatch.setenv("VOXLEDGER_NATS_PASSWORD", "changeme")
    with pytest.raises(SettingsError, match="VOXLEDGER_NATS_PASSWORD"):
        load_settings(use_env_file=False)


def test_defaults_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings(use_env_file=False)
    assert s.stream_max_age_days == 7
    assert s.bucket_worm != s.bucket_ledger


def test_secrets_do_not_leak_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOXLEDGER_S3_SECRET_KEY", "hunter2-very-secret")
    s = load_settings(use_env_file=False)
    assert "hunter2" not in repr(s)


def test_only_the_sealer_takes_the_sealer_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.platform import keys
    from services.runner.main import consumer_options

    monkeypatch.setattr(keys.LocalKeyProvider, "from_file", classmethod(lambda cls, path: None))
    monkeypatch.setenv("VOXLEDGER_SEALER_BATCH_SIZE", "1234")
    s = load_settings(use_env_file=False)
    assert consumer_options(s, sealer=True)["batch_size"] == 1234
    assert "batch_size" not in consumer_options(s)
