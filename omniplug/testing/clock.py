"""Simulated time for tests and simulators: :class:`Clock`.

A :class:`Clock` follows real UTC time until frozen; frozen, it moves only
when told (:meth:`Clock.advance`, :meth:`Clock.sleep`). Pass ``clock.now`` to
the code under test and ``clock.sleep`` as a client's ``sleep`` so that a
token's expiry or a platform's ban can pass without the test waiting::

    clock = Clock(frozen_at=datetime(2024, 3, 1, tzinfo=timezone.utc))
    clock.advance(7200)          # two hours later, instantly
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

__all__ = ["Clock"]


class Clock:
    """An injectable UTC clock that follows real time until frozen.

    Thread-safe: a simulator's server threads and the test read the same clock.

    Args:
        frozen_at: start frozen at this (timezone-aware) instant.
    """

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = None
        if frozen_at is not None:
            self.freeze(frozen_at)

    def now(self) -> datetime:
        """The current simulated time, UTC-aware."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def time(self) -> float:
        """The current simulated time as epoch seconds."""
        return self.now().timestamp()

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at ``at`` (default: now). ``at`` must be timezone-aware.

        Raises:
            ValueError: ``at`` is a naive datetime.
        """
        if at is not None and at.tzinfo is None:
            raise ValueError(
                "Clock.freeze needs a timezone-aware datetime (e.g. tzinfo=timezone.utc)"
            )
        moment = (at or self.now()).astimezone(UTC)
        with self._lock:
            self._frozen = moment

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (frozen or not)."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
                self._frozen = None

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of clock time: advance a frozen clock, really sleep otherwise.

        Pass it as a client's ``sleep`` so that retry waits move simulated time
        (a platform ban expires) without slowing the test down.
        """
        with self._lock:
            frozen = self._frozen is not None
        if frozen:
            self.advance(seconds)
        else:
            time.sleep(seconds)
