"""Client-side rate limiting: stay under a platform's QPS instead of being banned.

Platform limits are per app, not per connection, so every client of one
platform in a process must draw from one bucket: use
:func:`rate_limiter_for` rather than building buckets by hand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket", "rate_limiter_for"]

logger = logging.getLogger("omniplug.http")

_EPSILON = 1e-9


class TokenBucket:
    """A thread-safe token bucket: ``rate_per_second`` on average, bursts up to ``burst``.

    The bucket starts full. In any window of ``t`` seconds at most
    ``burst + rate_per_second * t`` tokens are handed out.

    Args:
        rate_per_second: sustained rate (tokens added per second), > 0.
        burst: bucket capacity, >= 1.
        clock: monotonic time source in seconds (inject a fake one in tests).
        sleep: how to wait for tokens (inject a fake one in tests).
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be positive, got {rate_per_second}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.rate = float(rate_per_second)
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self, n: float = 1) -> float:
        """Take ``n`` tokens, blocking until they are available.

        Returns the seconds spent waiting. Raises ``ValueError`` when ``n``
        exceeds the burst (it could never be granted).
        """
        if n > self.burst:
            raise ValueError(f"cannot acquire {n} tokens from a bucket of burst {self.burst}")
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                # The tolerance absorbs float rounding: without it a wait of
                # 1e-17 s can vanish against a large clock value and spin forever.
                if self._tokens >= n - _EPSILON:
                    self._tokens = max(0.0, self._tokens - n)
                    return waited
                wait = (n - self._tokens) / self.rate
            # Sleep outside the lock so other threads can refill/inspect;
            # loop because another thread may take the tokens first.
            self._sleep(wait)
            waited += wait

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._stamp = now
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)


_registry: dict[str, TokenBucket] = {}
_registry_lock = threading.Lock()


def rate_limiter_for(platform: str, rate: float, burst: float) -> TokenBucket:
    """The process-wide bucket of ``platform``, created on first use.

    Every client of a platform shares the returned bucket. The first call
    fixes the rate; a later call with other numbers gets the existing bucket
    (and a warning), because two limits for one platform cannot both hold.
    """
    with _registry_lock:
        bucket = _registry.get(platform)
        if bucket is None:
            bucket = _registry[platform] = TokenBucket(rate, burst)
        elif (bucket.rate, bucket.burst) != (float(rate), float(burst)):
            logger.warning(
                "%s: rate limiter already set to %s/s (burst %s); ignoring %s/s (burst %s)",
                platform,
                bucket.rate,
                bucket.burst,
                rate,
                burst,
            )
        return bucket
