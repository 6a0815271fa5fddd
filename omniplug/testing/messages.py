"""What a simulator receives and answers: requests, responses, the request record.

Handlers of a :class:`~omniplug.testing.simulator.SimulatorBase` take a
:class:`SimRequest` and return a :class:`SimResponse`; every request served
is kept as a :class:`RecordedRequest` for the test to inspect.
"""

from __future__ import annotations

import builtins
import json as jsonlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

__all__ = ["Headers", "RecordedRequest", "SimRequest", "SimResponse"]


class Headers(Mapping[str, str]):
    """Read-only request headers with case-insensitive names (first value wins)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = list(pairs)
        self._map: dict[str, str] = {}
        for name, value in self._pairs:
            self._map.setdefault(name.lower(), value)

    def __getitem__(self, name: str) -> str:
        return self._map[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def get_all(self, name: str) -> list[str]:
        """Every value sent for ``name``."""
        return [v for n, v in self._pairs if n.lower() == name.lower()]


@dataclass(frozen=True)
class SimRequest:
    """A request as a simulator handler receives it.

    Attributes:
        method: upper-case HTTP method.
        path: URL path without the query.
        query: query parameters, first value of each.
        query_all: query parameters with every value.
        headers: case-insensitive headers.
        body: the raw body.
    """

    method: str
    path: str
    query: dict[str, str]
    query_all: dict[str, list[str]]
    headers: Headers
    body: bytes

    def form(self) -> dict[str, str]:
        """The body parsed as ``application/x-www-form-urlencoded`` (first values)."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)

    def params(self) -> dict[str, str]:
        """Query and form parameters together (form wins), as gateway APIs read them."""
        merged = dict(self.query)
        content_type = self.headers.get("content-type", "")
        if self.body and content_type.startswith("application/x-www-form-urlencoded"):
            merged.update(self.form())
        return merged


@dataclass
class SimResponse:
    """A simulator handler's answer; build it with :meth:`json`, :meth:`text` or :meth:`bytes`.

    Attributes:
        status: the HTTP status code.
        headers: response headers (``Content-Length`` is added when sending).
        body: the raw body.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # ``builtins.bytes``: the class defines a ``bytes`` constructor below.
    body: builtins.bytes = b""

    @classmethod
    def json(
        cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> SimResponse:
        """A JSON response (UTF-8, non-ASCII kept as is, as Chinese platforms send it)."""
        body = jsonlib.dumps(obj, ensure_ascii=False).encode("utf-8")
        return cls(
            status, {"Content-Type": "application/json;charset=UTF-8", **(headers or {})}, body
        )

    @classmethod
    def text(
        cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8"
    ) -> SimResponse:
        """A text response."""
        return cls(status, {"Content-Type": content_type}, text.encode("utf-8"))

    @classmethod
    def bytes(
        cls, data: builtins.bytes, content_type: str = "application/octet-stream", status: int = 200
    ) -> SimResponse:
        """A binary response (an image, a video, an export file)."""
        return cls(status, {"Content-Type": content_type}, data)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the simulator received, and how it answered.

    ``status`` is ``None`` when the connection was dropped; ``error`` holds the
    handler's exception text when it crashed (answered 500). ``time`` is the
    simulator's :class:`~omniplug.testing.clock.Clock` time of the request.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: bytes
    time: datetime
    status: int | None
    error: str | None = None
