"""Publish simulated sessions through the recorder SDK (the I/O edge of the simulator).

At full speed (default) a virtual clock makes ``mono_ns`` follow the scripted timeline, so a
session that lasts 90 s on the timeline is published in about a second. With ``realtime`` frames
are paced on the wall clock and stamped by it, as a live gateway would be.

Frames keep flowing while the recording is paused (``recording.paused`` … ``.resumed``): the
provider still hears the card number; projections must leave that span out.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from schemas.envelope import Direction
from schemas.system_events import (
    ConsentChanged,
    ConsentScope,
    ConsentState,
    RecordingPaused,
    RecordingResumed,
    SessionStarted,
    SubjectIdentifiers,
)
from services.recorder import Recorder, RecordingSession
from services.simulator.frames import Frame, system_frames
from services.simulator.providers import PROFILES, Profile
from services.simulator.script import Script, ToolCallSpec, Turn, build_script

Progress = Callable[[str], None]
# Consent chosen per scope instead of the script's (tests): "revoked" = granted, then revoked
# before the session ends; a scope left out gets no event; an empty map means no consent at all.
ConsentPlan = Mapping[Literal["recording", "transcription", "training"],
                      Literal["granted", "declined", "revoked"]]
# Keep the recorder's in-memory queue well below its bound at full speed.
MAX_BACKLOG = 5_000


class SimulationError(RuntimeError):
    """The simulation could not publish every frame (the message names counts, never content)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SimulatedScript(_Model):
    turns: list[Turn]
    tool_calls: list[ToolCallSpec]


class SimulatedSession(_Model):
    tenant_id: str
    session_id: str
    provider: str  # the simulate profile: openai, openai-beta, gemini, elevenlabs, twilio, custom
    envelope_provider: str  # the session's ``provider`` in its envelopes
    seed: str
    events: int  # envelopes published for the session, system events included
    duration_ms: int
    script: SimulatedScript


class _VirtualClock:
    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns


@dataclass(frozen=True)
class SubjectOverride:
    """``--subject-phone/--subject-email/--customer-id``: the caller's identifiers (phone already
    in E.164)."""

    phone_e164: str | None = None
    email: str | None = None
    customer_id: str | None = None


def session_id_for(profile: str, seed: int, n: int) -> str:
    return f"sim-{profile}-{seed}-{n}"


def started_for(profile: Profile, script: Script) -> SessionStarted:
    return SessionStarted(
        provider=profile.provider.value, model=profile.model, agent="billing-assistant",
        input_format=profile.input_format(script), output_format=profile.output_format(script),
        jurisdiction="US-CA", retention_class="standard",
        consent={ConsentScope.RECORDING: ConsentState.UNKNOWN},
        subject=SubjectIdentifiers(phone_e164=script.caller_phone_e164,
                                   email=script.caller_email,
                                   customer_id=script.customer_id))


def plan(profile_name: str, script: Script) -> list[Frame]:
    """Every frame of the session in publish order (pure)."""
    frames = PROFILES[profile_name].build(script)
    for frame in system_frames(script):
        frames.add_frame(frame)
    return frames.sorted()


def with_consent(frames: list[Frame], consent: ConsentPlan) -> list[Frame]:
    """``frames`` with the script's consent events replaced by ``consent`` (pure)."""
    is_consent = [(f.type_ or "").startswith("consent.") for f in frames]
    at = next((f.at_ms for f, c in zip(frames, is_consent, strict=True) if c), 0.0)
    end = max((f.at_ms for f in frames), default=at)
    out = [f for f, c in zip(frames, is_consent, strict=True) if not c]
    for scope, state in consent.items():
        kind = "consent.declined" if state == "declined" else "consent.granted"
        out.append(Frame(at, "system", {"scope": scope}, None, kind))
        if state == "revoked":
            out.append(Frame(end, "system", {"scope": scope}, None, "consent.revoked"))
    return sorted(out, key=lambda f: f.at_ms)  # stable: ties keep their order


def _system_payload(frame: Frame) -> dict[str, Any]:
    if frame.type_ in ("consent.granted", "consent.declined", "consent.revoked"):
        return ConsentChanged.model_validate(frame.payload).model_dump(mode="json")
    if frame.type_ == "recording.paused":
        return RecordingPaused.model_validate(frame.payload).model_dump(mode="json")
    return RecordingResumed.model_validate(frame.payload).model_dump(mode="json")


async def _publish(recorder: Recorder, session: RecordingSession, frames: list[Frame],
                   clock: _VirtualClock | None, t0: float) -> None:
    for i, frame in enumerate(frames):
        if clock is not None:
            clock.now_ns = int(frame.at_ms * 1_000_000)
            if i % 200 == 0:
                await asyncio.sleep(0)  # let the publisher run
                while recorder.stats.queued - recorder.stats.published > MAX_BACKLOG:
                    await asyncio.sleep(0.005)
        else:
            delay = t0 + frame.at_ms / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        if frame.direction == "system":
            await session.system(frame.type_ or "", _system_payload(frame))
        else:
            session.record(Direction(frame.direction), frame.payload, provider=frame.provider)


async def simulate_one(recorder: Recorder, profile_name: str, seed: int, n: int,
                       realtime: bool = False, progress: Progress | None = None,
                       consent: ConsentPlan | None = None,
                       subject: SubjectOverride | None = None) -> SimulatedSession:
    profile = PROFILES[profile_name]
    s = subject or SubjectOverride()
    script = build_script(f"{profile_name}:{seed}:{n}", phone_e164=s.phone_e164, email=s.email,
                          customer_id=s.customer_id)
    frames = await asyncio.to_thread(plan, profile_name, script)  # numpy work off the loop
    if consent is not None:
        frames = with_consent(frames, consent)
    session_id = session_id_for(profile_name, seed, n)
    clock = None if realtime else _VirtualClock()
    session = recorder.session(session_id, profile.provider, started=started_for(profile, script),
                               clock=clock)
    async with session:
        await _publish(recorder, session, frames, clock, time.monotonic())
        if clock is not None:
            clock.now_ns = script.duration_ms * 1_000_000
        await session.end("completed")
    if progress:
        progress(f"{session_id}: {session.next_seq} events, {script.duration_ms / 1000:.1f} s")
    return SimulatedSession(
        tenant_id=recorder.tenant_id, session_id=session_id, provider=profile_name,
        envelope_provider=profile.provider.value, seed=script.seed, events=session.next_seq,
        duration_ms=script.duration_ms,
        script=SimulatedScript(turns=script.turns, tool_calls=script.tool_calls))


async def simulate(settings: Any, provider: str, sessions: int, seed: int, tenant: str,
                   realtime: bool = False, progress: Progress | None = None,
                   consent: ConsentPlan | None = None,
                   subject: SubjectOverride | None = None) -> list[SimulatedSession]:
    """Publish ``sessions`` sessions per provider (``provider`` may be ``all``); wait for acks."""
    names = list(PROFILES) if provider == "all" else [provider]
    unknown = [p for p in names if p not in PROFILES]
    if unknown:
        raise SimulationError(f"unknown provider {unknown[0]!r}; choose from "
                              f"{', '.join([*PROFILES, 'all'])}")
    await _check_reachable(settings)
    from services.platform.gateway import as_gateway

    recorder = await Recorder.connect(await as_gateway(settings, tenant), tenant)
    try:
        todo = [(name, n) for name in names for n in range(sessions)]
        if realtime:  # live calls overlap; at full speed one at a time keeps memory flat
            results = list(await asyncio.gather(
                *(simulate_one(recorder, name, seed, n, True, progress, consent, subject)
                  for name, n in todo)))
        else:
            results = [await simulate_one(recorder, name, seed, n, False, progress, consent, subject)
                       for name, n in todo]
        await recorder.flush(timeout=300)
    finally:
        await recorder.close()
    if recorder.stats.dropped or recorder.stats.rejected:
        raise SimulationError(f"{recorder.stats.dropped} frames dropped and "
                              f"{recorder.stats.rejected} rejected by the recorder")
    return results


CHECK_ATTEMPTS = 3
CHECK_PAUSE_S = 0.5


async def _check_reachable(settings: Any) -> None:
    """Fail fast with one line: the recorder itself retries forever, which suits a gateway, not a
    command a person is waiting on."""
    from services.platform.nats import connect

    async def quiet(_exc: Exception) -> None:
        return None

    failure = ""
    for attempt in range(CHECK_ATTEMPTS):
        if attempt:
            # A connection reset while the server reloads its users (a gateway credential was
            # issued or revoked) is not "unreachable": try again, a bounded number of times.
            await asyncio.sleep(CHECK_PAUSE_S)
        try:
            # nats-py keeps retrying a refused first connect, so bound it here
            nc = await asyncio.wait_for(connect(settings, name="voxledger-simulate-check",
                                                allow_reconnect=False, error_cb=quiet), 5)
        except Exception as exc:  # nats raises several unrelated types for "cannot connect"
            failure = type(exc).__name__
            continue
        await nc.close()
        return
    raise SimulationError(f"NATS is unreachable ({failure}, {CHECK_ATTEMPTS} attempts); "
                          "is the stack up (`voxledger status`)?")


def random_seed() -> int:
    return random.SystemRandom().randrange(1, 1_000_000)

