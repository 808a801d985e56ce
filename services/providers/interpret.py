"""``interpret(envelopes) -> Timeline``: route each envelope to its provider's interpreter.

Never raises on input (DESIGN.md law 9): a frame that cannot be read becomes a ``FrameError``
for that frame alone and the rest of the session is still interpreted. Every projection feeds
frames through :func:`feed_frame` (whole sessions through :func:`interpret` /
:func:`interpret_from`, live ones one frame at a time through :class:`Interpreter`), so one bad
frame gets the same reason in the transcripts and in the recordings.

A session may mix providers: a Twilio phone leg bridged to a model leg. Then the phone leg is the
record of what the caller said and heard (inbound/outbound media, marks, ``clear``), and the model
leg gives turns, transcripts and tool calls; the model's copy of the audio is not counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from schemas.envelope import Direction, Provider
from schemas.system_events import SessionEnded, SessionStarted, parse_system_event
from services.providers import custom, elevenlabs, gemini, openai, twilio
from services.providers.builder import Builder
from services.providers.formats import PCM16K, PCM24K, ULAW8K, FrameProblem, make_format
from services.providers.timeline import AudioFormat, ConfigChange, FrameError, Timeline

_OPENAI = (Provider.OPENAI_REALTIME, Provider.OPENAI_REALTIME_BETA)


class Frame(Protocol):
    """What the interpreters read of an envelope (an ``Envelope`` is one; so is a ledger entry
    decoded with its audio put back)."""

    @property
    def seq(self) -> int: ...
    @property
    def mono_ns(self) -> int: ...
    @property
    def provider(self) -> Provider: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def is_phone_frame(env: Frame) -> bool:
    """A Twilio phone-leg frame (a bridged session also carries the model leg's frames)."""
    return env.provider is Provider.TWILIO_MEDIA and "event" in env.payload


def _is_model_frame(env: Frame) -> bool:
    return env.direction is not Direction.SYSTEM and not is_phone_frame(env)


def interpret(envelopes: Iterable[Frame]) -> Timeline:
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


def interpret_from(progress: Progress | None, envs: Sequence[Frame]) -> Progress:
    """Interpret ``envs`` (sorted by seq), continuing ``progress`` when that was fed a prefix of
    them and nothing it was started with changes; else from the start. The interpreters read
    frames strictly in order, and freezing does not change the builder, so feeding the new tail
    of a live session gives exactly what interpreting the whole session again would."""
    if progress is not None and _extends(progress, envs):
        new = envs[progress.fed:]
        phone = progress.phone or any(map(is_phone_frame, new))
        model = progress.model or any(map(_is_model_frame, new))
        if (phone and model) == progress.builder.bridged and progress.first is not None:
            _feed(progress.builder, new)
            progress.fed, progress.phone, progress.model = len(envs), phone, model
            progress.last_seq = envs[-1].seq if envs else progress.last_seq
            return progress
    b = Builder()
    phone, model = any(map(is_phone_frame, envs)), any(map(_is_model_frame, envs))
    b.bridged = phone and model
    first = next((e.provider for e in envs if e.direction is not Direction.SYSTEM), None)
    b.in_format, b.out_format = default_formats(first)
    _feed(b, envs)
    return Progress(b, len(envs), envs[-1].seq if envs else -1, phone, model, first)


def _extends(progress: Progress, envs: Sequence[Frame]) -> bool:
    if progress.fed > len(envs):
        return False
    if progress.fed == 0:
        return True
    tail_ok = progress.fed == len(envs) or envs[progress.fed].seq > progress.last_seq
    return envs[progress.fed - 1].seq == progress.last_seq and tail_ok


def _feed(b: Builder, envs: Iterable[Frame]) -> None:
    for env in envs:
        feed_frame(b, env)


def feed_frame(b: Builder, env: Frame) -> FrameError | None:
    """Interpret one frame (seq order) into ``b``. Never raises: a frame that cannot be read is
    recorded in ``b.frame_errors`` (and returned) and the session carries on."""
    # The member's value itself: ``.value`` goes through enum's descriptor, a Python call
    # for every frame of every projection.
    provider: str = env.provider._value_
    b.at(env.seq, env.mono_ns, provider)
    b.provider = provider
    try:
        _route(b, env)
        return None
    except FrameProblem as problem:
        error = FrameError(env.seq, problem.reason)
    except ValidationError:
        error = FrameError(env.seq, "invalid_system_event")
    except Exception as exc:  # an interpreter bug must not lose the rest of the session
        error = FrameError(env.seq, f"internal_error:{type(exc).__name__}")
    b.frame_errors.append(error)
    return error


class Interpreter:
    """A live session interpreted one frame at a time, in seq order, never knowing what comes
    next: the session counts as bridged from its first frame of the second leg, and the default
    formats come from the first provider frame unless ``session.started`` came first."""

    def __init__(self, builder: Builder | None = None) -> None:
        self.builder = builder if builder is not None else Builder()
        self._phone = self._model = self._formats_set = False

    def feed(self, env: Frame) -> FrameError | None:
        b = self.builder
        if env.direction is not Direction.SYSTEM:
            phone = is_phone_frame(env)
            self._phone |= phone
            self._model |= not phone
            b.bridged = self._phone and self._model
            if not self._formats_set:
                b.in_format, b.out_format = default_formats(env.provider)
                self._formats_set = True
        elif env.type == "session.started":
            self._formats_set = True
        return feed_frame(b, env)

    def timeline(self) -> Timeline:
        return self.builder.freeze()


def default_formats(provider: Provider | None) -> tuple[AudioFormat, AudioFormat]:
    """Caller and agent audio formats of a session that announced none."""
    if provider is Provider.GEMINI_LIVE:
        return PCM16K, PCM24K
    if provider is Provider.ELEVENLABS:
        return PCM16K, PCM16K  # the agent default when metadata is missing
    if provider is Provider.TWILIO_MEDIA:
        return ULAW8K, ULAW8K
    return PCM24K, PCM24K


def _route(b: Builder, env: Frame) -> None:
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


def _system(b: Builder, env: Frame) -> None:
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
