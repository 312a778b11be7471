"""A small in-process token bucket: subject routes are guessable-code routes, so slow them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from facegate.errors import FacegateError


class TooManyRequests(FacegateError):
    code = "too_many_requests"
    default_advice = "Wait a minute, then try again."


class RateLimiter:
    """``rate`` requests per ``per`` seconds per key, with bursts up to ``rate``."""

    def __init__(
        self, rate: int, per: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.per, self._clock = rate, per, clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - last) * self.rate / self.per)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise TooManyRequests("too many requests from this address")
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle clients; bounded memory
                self._buckets.clear()
