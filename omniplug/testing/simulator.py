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

The pieces live in their own modules and are re-exported here:
:mod:`omniplug.testing.clock` (:class:`Clock`), :mod:`omniplug.testing.faults`
(:class:`Faults`) and :mod:`omniplug.testing.messages` (:class:`SimRequest`,
:class:`SimResponse`, :class:`RecordedRequest`, :class:`Headers`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from omniplug.http.redact import redact
from omniplug.testing.clock import Clock
from omniplug.testing.faults import Faults
from omniplug.testing.messages import Headers, RecordedRequest, SimRequest, SimResponse

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
        server = _QuietServer((self._host, self._port), _RequestHandler)
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


class _QuietServer(ThreadingHTTPServer):
    """A server that does not print a traceback when a client hangs up mid-request.

    Clients killed by tests (``kill -9``) or timing out reset their
    connections; that is the client's business, not a simulator failure.
    """

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


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
