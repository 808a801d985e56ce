"""Provider interpreters: a session's envelopes → one ``Timeline``. Pure functions, no I/O.

    from services.providers import interpret
    timeline = interpret(envelopes)

    live = Interpreter()          # the same rules, one frame at a time (seq order)
    error = live.feed(envelope)   # FrameError | None; live.builder holds the state so far

``services.providers.frames`` answers the per-frame questions (type, audio or not, where the
audio bytes are, how long they play) for every provider.

Errors: interpretation never raises on input. Unreadable frames become
``timeline.frame_errors`` (seq + reason code); unknown event types become ``timeline.unknown``.
The importer (``services.providers.importer``) is the one module here that does I/O.
"""

from services.providers.interpret import Frame, Interpreter, feed_frame, interpret
from services.providers.timeline import Timeline

__all__ = ["Frame", "Interpreter", "Timeline", "feed_frame", "interpret"]
