"""When and how long to retry a platform request.

:class:`RetryPolicy` decides, for each failed attempt, whether to try again
and how long to wait first. An explicit platform wait (``Retry-After``, a TOP
"ban will last for N more seconds") is honoured exactly; any other retryable
failure waits an exponential backoff with jitter. The loop itself runs on
tenacity, with the client's injectable ``sleep`` so tests see the waits
without waiting.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tenacity

from omniplug.errors import AuthError, PlatformError, ThrottledError

__all__ = ["RetryPolicy", "is_retryable"]


def is_retryable(error: BaseException) -> bool:
    """True for errors a retry of the same request can fix.

    Retryable: :class:`~omniplug.errors.TransientError` (5xx, dropped
    connections, "service busy"), :class:`~omniplug.errors.ThrottledError`
    and any :class:`~omniplug.errors.PlatformError` created with
    ``retryable=True``. Never retryable: auth and signature errors, other
    platform errors, and anything that is not a platform error (bugs).
    """
    return isinstance(error, PlatformError) and error.retryable and not isinstance(error, AuthError)


@dataclass(frozen=True)
class RetryPolicy:
    """How a :class:`~omniplug.http.PlatformClient` retries.

    Attributes:
        max_attempts: tries per request, the first one included.
        backoff_initial: first backoff wait in seconds (doubles per attempt,
            plus up to this much random jitter).
        backoff_max: cap of a single backoff wait.
        max_single_wait: the longest wait a platform may ask for
            (``Retry-After``, ban seconds) that the client will sit out; a
            longer one (a daily quota ban) raises
            :class:`~omniplug.errors.ThrottledError` at once instead of
            stalling the job for hours.
    """

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_single_wait: float = 900.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(
                f"RetryPolicy.max_attempts must be at least 1, got {self.max_attempts}"
            )
        if self.backoff_initial < 0 or self.backoff_max < 0 or self.max_single_wait < 0:
            raise ValueError("RetryPolicy waits must not be negative")

    def wait_for(self, error: BaseException | None, attempt: int) -> float:
        """Seconds to wait after ``attempt`` (1-based) failed with ``error``."""
        if isinstance(error, ThrottledError) and error.retry_after is not None:
            return float(error.retry_after)
        # Jitter spreads the retries of parallel workers hit by the same outage.
        exponential = self.backoff_initial * 2.0 ** (attempt - 1)
        return min(self.backoff_max, exponential + random.uniform(0, self.backoff_initial))

    def retrying(
        self,
        *,
        sleep: Callable[[float], Any],
        before_sleep: Callable[[BaseException, float, int], None] | None = None,
    ) -> tenacity.Retrying:
        """A tenacity ``Retrying`` that applies this policy.

        ``sleep`` performs the waits; ``before_sleep(error, wait, attempt)``
        is called before each one (for logging). When attempts run out the
        last error is re-raised as itself, never as ``tenacity.RetryError``.
        """

        def _wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_for(error, state.attempt_number)

        def _before_sleep(state: tenacity.RetryCallState) -> None:
            if before_sleep is not None and state.outcome is not None and state.next_action:
                error = state.outcome.exception()
                if error is not None:
                    before_sleep(error, state.next_action.sleep, state.attempt_number)

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=_wait,
            retry=tenacity.retry_if_exception(is_retryable),
            sleep=sleep,
            before_sleep=_before_sleep,
            reraise=True,
        )
