"""Builds envelopes for interpreter tests, stamped the way the recorder SDK stamps them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uuid_utils

from schemas.envelope import Direction, Envelope, Provider
from services.recorder.frames import frame_type

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "providers"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def env(seq: int, provider: str | Provider, direction: str, frame: dict[str, Any],
        ms: float = 0.0, type_: str | None = None) -> Envelope:
    prov = Provider(provider)
    dirn = Direction(direction)
    mono = int(ms * 1e6)
    return Envelope(
        event_id=str(uuid_utils.uuid7()), tenant_id="t", session_id="s", seq=seq,
        provider=prov, direction=dirn,
        type=type_ or _type(prov, frame),
        recorded_at=T0 + timedelta(microseconds=mono // 1000),
        mono_ns=mono, payload=frame,
    )


def _type(provider: Provider, frame: dict[str, Any]) -> str:
    # frame_type keeps non-ASCII letters (str.isalnum), which the envelope pattern refuses;
    # junk frames in property tests must still make envelopes.
    found = frame_type(provider, frame)
    return found if re.fullmatch(r"[A-Za-z0-9_.:/-]+", found) else "unknown"


class Session:
    """Append frames in order with an explicit clock (ms)."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.envs: list[Envelope] = []

    def add(self, direction: str, frame: dict[str, Any], ms: float,
            provider: str | None = None) -> Envelope:
        e = env(len(self.envs), provider or self.provider, direction, frame, ms)
        self.envs.append(e)
        return e

    def system(self, type_: str, payload: dict[str, Any], ms: float = 0.0) -> None:
        self.envs.append(env(len(self.envs), self.provider, "system", payload, ms, type_))
