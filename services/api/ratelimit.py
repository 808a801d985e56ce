"""Per-token rate limit: a token bucket in this process (each API process limits on its own)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_TRACKED = 10_000  # tokens remembered; the least recently used is forgotten past this


class TokenBuckets:
    def __init__(self, rate_per_s: float, burst: int,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._now = rate_per_s, burst, now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when the request may go on, else the seconds until one token is back."""
        now = self._now()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        return wait

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
