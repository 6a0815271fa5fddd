"""A base class for platform simulators: real HTTP on loopback, recorded, with faults.

A plugin's simulator subclasses :class:`SimulatorBase`, registers handlers
with :func:`route` (or a :meth:`SimulatorBase.fallback` for gateway APIs that
dispatch on a parameter) and serves its seeded world::

    class TopSimulator(SimulatorBase):
        @route("POST", "/router/rest")
        def router(self, req: SimRequest) -> SimResponse:
            params = req.params()
            if not verify_sign(params, APP_SECRET):
                return SimResponse.json({"error_response": {"code": 25, "msg": "Invalid Sign"}})
            ...

    with TopSimulator(seed=7) as sim:
        client = PlatformClient("tmall", sim.base_url, ...)
        sim.faults.inject("status", status=503)        # next request fails once
        ...
        assert sim.requests[-1].status == 200

:class:`Clock` is the simulated time: freeze it, advance it past a token's
expiry, and pass ``clock.now`` to the code under test.
"""

from __future__ import annotations

import builtins
import json as jsonlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from omniplug.http.redact import redact

__all__ = [
    "Clock",
    "Faults",
    "Handler",
    "Headers",
    "RecordedRequest",
    "SimRequest",
    "SimResponse",
    "SimulatorBase",
    "route",
]

logger = logging.getLogger("omniplug.testing.simulator")


class Clock:
    """An injectable UTC clock that follows real time until frozen.

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
            return datetime.now(timezone.utc) + self._offset

    def time(self) -> float:
        """The current simulated time as epoch seconds."""
        return self.now().timestamp()

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at ``at`` (default: now). ``at`` must be timezone-aware."""
        if at is not None and at.tzinfo is None:
            raise ValueError(
                "Clock.freeze needs a timezone-aware datetime (e.g. tzinfo=timezone.utc)"
            )
        moment = (at or self.now()).astimezone(timezone.utc)
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
                self._offset = self._frozen - datetime.now(timezone.utc)
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
    """A simulator handler's answer; build it with :meth:`json`, :meth:`text` or :meth:`bytes`."""

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
    handler's exception text when it crashed (answered 500).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: bytes
    time: datetime
    status: int | None
    error: str | None = None


_FAULT_KINDS = ("status", "drop", "slow", "body")


@dataclass
class _Fault:
    kind: str
    remaining: int
    path: str | None
    response: SimResponse | None
    delay: float


class Faults:
    """Scheduled failures for the next matching requests (used up in order)."""

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
    if isinstance(body, builtins.bytes):
        return SimResponse.bytes(body, status=status)
    if isinstance(body, str):
        return SimResponse.text(body, status=status)
    return SimResponse.json(body, status=status)


#: A route handler: a simulator method taking the request.
Handler = Callable[[SimRequest], SimResponse]
_F = TypeVar("_F", bound=Callable[..., SimResponse])
_ROUTES_ATTR = "__omniplug_routes__"


def route(method: str, path: str) -> Callable[[_F], _F]:
    """Register a simulator method as the handler of ``method path``.

    ``method`` may be ``"*"`` for any method. Paths match exactly (no query).
    """

    def mark(func: _F) -> _F:
        routes = list(getattr(func, _ROUTES_ATTR, []))
        routes.append((method.upper(), path))
        setattr(func, _ROUTES_ATTR, routes)
        return func

    return mark


class SimulatorBase:
    """A platform simulator: a real HTTP server on loopback, in a daemon thread.

    Args:
        seed: seed of the simulated world (subclasses build it; stored as ``self.seed``).
        clock: simulated time (default: a real-time :class:`Clock`); stored as ``self.clock``.
        host: interface to bind (loopback by default).
        port: port to bind (0: an ephemeral port, see :attr:`base_url`).

    Attributes:
        faults: the :class:`Faults` to inject failures with.
    """

    def __init__(
        self, *, seed: int = 0, clock: Clock | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.seed = seed
        self.clock = clock or Clock()
        self.faults = Faults()
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: dict[tuple[str, str], Handler] = {}
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._errors: list[Exception] = []

    # -- what subclasses override ---------------------------------------------

    def routes(self) -> dict[tuple[str, str], Handler]:
        """``{(METHOD, path): handler}``: the methods marked with :func:`route`.

        Override to add routes programmatically (merge with ``super().routes()``).
        """
        table: dict[tuple[str, str], Handler] = {}
        for name in dir(type(self)):
            for key in getattr(getattr(type(self), name, None), _ROUTES_ATTR, ()):
                table[key] = getattr(self, name)
        return table

    def fallback(self, request: SimRequest) -> SimResponse | None:
        """Handler for requests no route matches; ``None`` (the default) answers 404."""
        return None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> Self:
        """Start serving (idempotent) and return ``self``."""
        if self._server is not None:
            return self
        self._routes = self.routes()
        server = ThreadingHTTPServer((self._host, self._port), _RequestHandler)
        server.daemon_threads = True
        server.simulator = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running: call start() first")
        port = self._server.server_address[1]
        return f"http://{self._host}:{port}"

    # -- what tests inspect ---------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[Exception]:
        """Exceptions raised by handlers (each answered 500)."""
        with self._lock:
            return list(self._errors)

    def clear_requests(self) -> None:
        """Forget the recorded requests and handler errors."""
        with self._lock:
            self._requests.clear()
            self._errors.clear()

    # -- serving (called from the server's threads) --------------------------

    def _dispatch(self, request: SimRequest) -> tuple[SimResponse, str | None]:
        handler = self._routes.get((request.method, request.path)) or self._routes.get(
            ("*", request.path)
        )
        try:
            if handler is not None:
                response: Any = handler(request)
            elif any(path == request.path for _, path in self._routes):
                return SimResponse.json(
                    {"error": f"method {request.method} not allowed"}, 405
                ), None
            else:
                response = self.fallback(request)
                if response is None:
                    return SimResponse.json(
                        {"error": f"no route for {request.method} {request.path}"}, 404
                    ), None
            if not isinstance(response, SimResponse):
                raise TypeError(f"handler returned {type(response).__name__}, expected SimResponse")
            return response, None
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            logger.error(
                "%s handler failed on %s %s: %s",
                type(self).__name__,
                request.method,
                request.path,
                text,
            )
            with self._lock:
                self._errors.append(exc)
            return SimResponse.json({"error": text}, 500), text

    def _record(self, request: SimRequest, status: int | None, error: str | None) -> None:
        entry = RecordedRequest(
            request.method,
            request.path,
            request.query,
            request.headers,
            request.body,
            self.clock.now(),
            status,
            error,
        )
        with self._lock:
            self._requests.append(entry)


class _RequestHandler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a :class:`SimRequest` for the simulator."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the platforms' gateways do
    timeout = 60  # an idle keep-alive connection must not pin a thread forever
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _serve(self) -> None:
        sim: SimulatorBase = self.server.simulator  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query_all = parse_qs(url.query, keep_blank_values=True)
        request = SimRequest(
            self.command,
            url.path,
            {k: v[0] for k, v in query_all.items()},
            query_all,
            Headers(list(self.headers.items())),
            body,
        )
        fault = sim.faults.take(request.path)
        kind, canned, delay = fault if fault else (None, None, 0.0)
        if kind == "drop":
            sim._record(request, None, None)
            self.close_connection = True  # the server closes the socket, no byte sent
            return
        if kind == "slow":
            time.sleep(delay)
        error = None
        if canned is not None:
            response = canned
        else:
            response, error = sim._dispatch(request)
        sim._record(request, response.status, error)
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. timed out on a "slow" fault): nothing to answer.
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log path and status only: the query holds signatures and tokens."""
        logger.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:
        """Route http.server's own messages to logging, redacted."""
        logger.debug("%s", redact(format % args))
