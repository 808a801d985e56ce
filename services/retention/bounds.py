"""Pure checks on retention periods, shared by the settings and `retention set` (imports nothing
from the rest of Voxledger, so the settings can use it without an import cycle).

Transport alignment (issue 15 item 4): JetStream keeps raw frames for up to
``VOXLEDGER_STREAM_MAX_AGE_DAYS`` (a safety bound; frames are purged once a session's end is
sealed). A raw-data retention shorter than that would leave raw frames in NATS after the ledger
disposed of them, so such a policy is refused, and a stream ``max_age`` longer than the shortest
raw-data retention is refused too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

DATA_CLASSES: Final = ("raw_events", "recordings", "transcripts", "redacted_transcripts",
                       "training_exports", "dead_letters", "access_log")
# The classes whose data also sits, as raw frames, in the JetStream buffer.
RAW_CLASSES: Final = frozenset({"raw_events"})
MAX_DAYS: Final = 36500


def check_days(data_class: str, days: int | None, stream_max_age_days: float) -> None:
    """Raise ValueError with a message saying what to do when ``days`` is not acceptable."""
    if data_class not in DATA_CLASSES:
        raise ValueError(f"unknown data class {data_class!r}; one of: {', '.join(DATA_CLASSES)}")
    if days is None:
        return
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"{data_class}: days must be between 0 and {MAX_DAYS} (or forever)")
    if data_class in RAW_CLASSES and days < math.ceil(stream_max_age_days):
        raise ValueError(
            f"{data_class}: {days} d is shorter than the NATS buffer "
            f"(VOXLEDGER_STREAM_MAX_AGE_DAYS={stream_max_age_days:g}); raw frames would outlive "
            "the policy in JetStream. Lower the stream max age first, or keep at least "
            f"{math.ceil(stream_max_age_days)} d")


def check_defaults(defaults: Mapping[str, int | None], stream_max_age_days: float) -> None:
    for data_class, days in defaults.items():
        check_days(data_class, days, stream_max_age_days)
