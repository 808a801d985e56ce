"""The injectable clock: fixed, shifted, and the settings' offset (refused in production)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.platform.clock import FixedClock, ShiftedClock, SystemClock
from services.platform.settings import SettingsError, load_settings


def test_fixed_clock_moves_only_when_told() -> None:
    c = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert c.now() == c.now() == datetime(2026, 1, 1, tzinfo=UTC)
    c.advance(timedelta(days=400))
    assert c.now() == datetime(2027, 2, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 1))


def test_shifted_clock_is_the_base_plus_offset() -> None:
    base = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert ShiftedClock(timedelta(days=-10), base).now() == datetime(2025, 12, 22, tzinfo=UTC)
    assert abs(ShiftedClock(timedelta(0)).now() - SystemClock().now()) < timedelta(seconds=5)


def test_settings_offset_shifts_and_is_refused_in_production() -> None:
    s = load_settings(use_env_file=False, clock_offset_days=365)
    assert s.clock().now() - SystemClock().now() > timedelta(days=364)
    assert isinstance(load_settings(use_env_file=False).clock(), SystemClock)
    with pytest.raises(SettingsError, match="VOXLEDGER_CLOCK_OFFSET_DAYS"):
        load_settings(use_env_file=False, environment="production", clock_offset_days=1)
