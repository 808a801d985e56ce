"""``interpret(envelopes) -> Timeline``: route each envelope to its provider's interpreter.

Never raises on input (DESIGN.md law 9): a frame that cannot be read becomes a ``FrameError``
for that frame alone and the rest of the session is still interpreted.

A session may mix providers: a Twilio phone leg bridged to a model leg. Then the phone leg is the
record of what the caller said and heard (inbound/outbound media, marks, ``clear``), and the model
leg gives turns, transcripts and tool calls; the model's copy of the audio is not counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.envelope import Direction, Envelope, Provider
from schemas.system_events import SessionEnded, SessionStarted, parse_system_event
from services.providers import custom, elevenlabs, gemini, openai, twilio
from services.providers.builder import Builder
from services.providers.formats import PCM16K, PCM24K, ULAW8K, FrameProblem, make_format
from services.providers.timeline import ConfigChange, FrameError, Timeline

_OPENAI = (Provider.OPENAI_REALTIME, Provider.OPENAI_REALTIME_BETA)


def _is_phone_frame(env: Envelope) -> bool:
    return env.provider is Provider.TWILIO_MEDIA and "event" in env.payload


def _is_model_frame(env: Envelope) -> bool:
    return env.direction is not Direction.SYSTEM and not _is_phone_frame(env)


def interpret(envelopes: Iterable[Envelope]) -> Timeline:
    return interpret_from(None, sorted(envelopes, key=lambda e: e.seq)).builder.freeze()


@dataclass
class Progress:
    """A builder fed with the first ``fed`` envelopes of a session (in seq order), and what it
    was started with; freezing it gives what :func:`interpret` gives for those envelopes."""

    builder: Builder
    fed: int
    last_seq: int
    phone: bool  # a phone-leg frame among them
    model: bool  # a model-leg frame among them
    first: Provider | None  # provider of the first non-system frame (the default formats)


def interpret_from(progress: Progress | None, envs: Sequence[Envelope]) -> Progress:
    """Interpret ``envs`` (sorted by seq), continuing ``progress`` when that was fed a prefix of
    them and nothing it was started with changes; else from the start. The interpreters read
    frames strictly in order, and freezing does not change the builder, so feeding the new tail
    of a live session gives exactly what interpreting the whole session again would."""
    if progress is not None and _extends(progress, envs):
        new = envs[progress.fed:]
        phone = progress.phone or any(map(_is_phone_frame, new))
        model = progress.model or any(map(_is_model_frame, new))
        if (phone and model) == progress.builder.bridged and progress.first is not None:
            _feed(progress.builder, new)
            progress.fed, progress.phone, progress.model = len(envs), phone, model
            progress.last_seq = envs[-1].seq if envs else progress.last_seq
            return progress
    b = Builder()
    phone, model = any(map(_is_phone_frame, envs)), any(map(_is_model_frame, envs))
    b.bridged = phone and model
    first = next((e.provider for e in envs if e.direction is not Direction.SYSTEM), None)
    b.in_format, b.out_format = _defaults(first)
    _feed(b, envs)
    return Progress(b, len(envs), envs[-1].seq if envs else -1, phone, model, first)


def _extends(progress: Progress, envs: Sequence[Envelope]) -> bool:
    if progress.fed > len(envs):
        return False
    if progress.fed == 0:
        return True
    tail_ok = progress.fed == len(envs) or envs[progress.fed].seq > progress.last_seq
    return envs[progress.fed - 1].seq == progress.last_seq and tail_ok


def _feed(b: Builder, envs: Iterable[Envelope]) -> None:
    for env in envs:
        b.at(env.seq, env.mono_ns, env.provider.value)
        b.provider = env.provider.value
        try:
            _route(b, env)
        except FrameProblem as problem:
            b.frame_errors.append(FrameError(env.seq, problem.reason))
        except ValidationError:
            b.frame_errors.append(FrameError(env.seq, "invalid_system_event"))
        except Exception as exc:  # an interpreter bug must not lose the rest of the session
            b.frame_errors.append(FrameError(env.seq, f"internal_error:{type(exc).__name__}"))


def _defaults(provider: Provider | None) -> tuple[Any, Any]:
    if provider is Provider.GEMINI_LIVE:
        return PCM16K, PCM24K
    if provider is Provider.ELEVENLABS:
        return PCM16K, PCM16K  # the agent default when metadata is missing
    if provider is Provider.TWILIO_MEDIA:
        return ULAW8K, ULAW8K
    return PCM24K, PCM24K


def _route(b: Builder, env: Envelope) -> None:
    frame = env.payload
    if env.direction is Direction.SYSTEM:
        _system(b, env)
    elif env.provider is Provider.TWILIO_MEDIA:
        if "event" in frame:
            twilio.handle(b, frame, env.direction)
        else:  # the model leg recorded under the session's phone provider
            openai.handle(b, frame)
    elif env.provider in _OPENAI:
        openai.handle(b, frame)
    elif env.provider is Provider.GEMINI_LIVE:
        gemini.handle(b, frame)
    elif env.provider is Provider.ELEVENLABS:
        elevenlabs.handle(b, frame)
    elif env.provider is Provider.CUSTOM:
        custom.handle(b, frame)


def _system(b: Builder, env: Envelope) -> None:
    if env.type == "session.started":
        started = parse_system_event(env.type, env.payload)
        assert isinstance(started, SessionStarted)
        fin = make_format(started.input_format.codec, started.input_format.sample_rate,
                          started.input_format.channels)
        fout = make_format(started.output_format.codec, started.output_format.sample_rate,
                           started.output_format.channels)
        b.in_format, b.out_format = fin, fout
        b.configs.append(ConfigChange(b.now_ms, b.seq, "session.started", fin, fout,
                                      model=started.model))
        b.marker("session.started")
    elif env.type == "session.ended":
        ended = parse_system_event(env.type, env.payload)
        assert isinstance(ended, SessionEnded)
        b.marker("session.ended", ended.reason[:64])
    elif env.type.startswith(("consent.", "recording.", "recorder.")):
        event = parse_system_event(env.type, env.payload)
        scope = getattr(event, "scope", None)
        b.marker(env.type, str(scope.value) if scope is not None else None)
    else:
        b.unknown_event(env.type)
