"""Provider interpreters: a session's envelopes → one ``Timeline``. Pure functions, no I/O.

    from services.providers import interpret
    timeline = interpret(envelopes)

Errors: interpretation never raises on input. Unreadable frames become
``timeline.frame_errors`` (seq + reason code); unknown event types become ``timeline.unknown``.
The importer (``services.providers.importer``) is the one module here that does I/O.
"""

from services.providers.interpret import interpret
from services.providers.timeline import Timeline

__all__ = ["Timeline", "interpret"]
