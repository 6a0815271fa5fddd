"""Fault injection for simulators: make the next matching requests fail on purpose.

A simulator's :attr:`~omniplug.testing.simulator.SimulatorBase.faults` is a
:class:`Faults`; a test schedules failures on it and the server uses them up
in order, one per matching request::

    sim.faults.inject("status", status=429, headers={"Retry-After": "3"})
    sim.faults.inject("drop", times=2, path="/router/rest")
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from omniplug.testing.messages import SimResponse

__all__ = ["Faults"]

_FAULT_KINDS = ("status", "drop", "slow", "body")


@dataclass
class _Fault:
    kind: str
    remaining: int
    path: str | None
    response: SimResponse | None
    delay: float


class Faults:
    """Scheduled failures for the next matching requests (used up in order).

    Thread-safe: the test injects while the server's threads take.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        path: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float | None = None,
    ) -> None:
        """Make the next ``times`` requests (whose path starts with ``path``, if given) fail.

        Kinds: ``"status"`` answers ``status`` (e.g. 429 with
        ``headers={"Retry-After": "3"}``, 500, 503); ``"drop"`` closes the
        connection without a response; ``"slow"`` sleeps ``delay`` real seconds
        and then answers normally; ``"body"`` answers ``body`` (bytes, text or a
        JSON-able value) with ``status`` (default 200).

        Raises:
            ValueError: an unknown kind, ``times`` below 1, or the argument the
                kind needs is missing.
        """
        if kind not in _FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {kind!r}; expected one of {', '.join(_FAULT_KINDS)}"
            )
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if kind == "status" and status is None:
            raise ValueError('a "status" fault needs status=')
        if kind == "slow" and delay is None:
            raise ValueError('a "slow" fault needs delay= (seconds)')
        if kind == "body" and body is None:
            raise ValueError('a "body" fault needs body=')
        response = None
        if kind in ("status", "body"):
            code = status if status is not None else 200
            response = _fault_response(
                body if body is not None else {"error": f"injected HTTP {code}"}, code
            )
            response.headers.update(headers or {})
        with self._lock:
            self._faults.append(_Fault(kind, times, path, response, delay or 0.0))

    def clear(self) -> None:
        """Remove every pending fault."""
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> tuple[str, SimResponse | None, float] | None:
        """Use up one application of the first fault matching ``path``.

        Returns ``(kind, response, delay)``, or ``None`` when no fault applies.
        """
        with self._lock:
            for fault in self._faults:
                if fault.path is None or path.startswith(fault.path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.kind, fault.response, fault.delay
        return None


def _fault_response(body: Any, status: int) -> SimResponse:
    """The canned answer of a ``status``/``body`` fault, by the type of ``body``."""
    if isinstance(body, bytes):
        return SimResponse.bytes(body, status=status)
    if isinstance(body, str):
        return SimResponse.text(body, status=status)
    return SimResponse.json(body, status=status)
