"""The HTTP client every platform plugin talks through.

:class:`PlatformClient` wraps an ``httpx.Client`` with what every platform
needs: a per-attempt ``prepare`` hook (fresh timestamp, signature and access
token on each try), ``classify`` for error envelopes, retries with backoff
that honour the platform's requested waits, one token refresh per request,
client-side rate limiting and a redacted request log.

A plugin supplies two small functions and gets the rest::

    def prepare(req: RequestSpec, token: TokenSet | None) -> RequestSpec:
        req.params.update(app_key=cfg.app_key, timestamp=now_cn(), session=token...)
        req.params["sign"] = sign(req.params, cfg.app_secret)
        return req

    def classify(response: httpx.Response) -> PlatformError | None:
        err = response.json().get("error_response")
        if err is None:
            return None
        if err["code"] == 7:
            return ThrottledError(err["sub_msg"], code=7,
                                  retry_after=parse_ban_seconds(err["sub_msg"]))
        ...

    client = PlatformClient("tmall", base_url, prepare=prepare, classify=classify,
                            token_manager=tokens, secrets=[cfg.app_secret])
    body = client.request_json("POST", "/router/rest", data={"method": "taobao.trades.sold.get"})
"""

from __future__ import annotations

import copy
import functools
import logging
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

import httpx

from omniplug.errors import PlatformError, ThrottledError, TokenExpiredError, TransientError
from omniplug.http.classify import classify_status, parse_retry_after, what_to_do
from omniplug.http.oauth import TokenManager
from omniplug.http.ratelimit import TokenBucket
from omniplug.http.redact import redact
from omniplug.http.requestlog import (
    RequestLog,
    RequestLogEntry,
    emit,
    guard_library_loggers,
    preview,
    remember_secrets,
)
from omniplug.http.retry import RetryPolicy
from omniplug.tokens import TokenSet

__all__ = ["Classifier", "PlatformClient", "Preparer", "RequestSpec"]

logger = logging.getLogger("omniplug.http")


@dataclass
class RequestSpec:
    """One request as a plugin's ``prepare`` sees it; mutate it or return a new one.

    Attributes:
        method: HTTP method, upper case.
        url: a path relative to the client's base URL, or an absolute URL.
        params: query parameters.
        data: form fields (sent ``application/x-www-form-urlencoded``).
        json: a JSON body (any JSON-able value), or ``None``.
        content: a raw body, or ``None``.
        headers: request headers (on top of the client's default headers).
    """

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def copy(self) -> RequestSpec:
        """A deep copy, so one attempt's signature never leaks into the next."""
        return copy.deepcopy(self)


#: ``classify(response)``: the platform error a response carries, or ``None``.
Classifier = Callable[[httpx.Response], PlatformError | None]
#: ``prepare(request, token)``: the request to send on this attempt (or ``None``
#: after changing ``request`` in place).
Preparer = Callable[[RequestSpec, TokenSet | None], RequestSpec | None]

# Failures of the network or of the peer, where the same request can succeed
# later. Others (bad URL scheme, proxy misconfiguration) are the caller's.
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass
class _Attempts:
    """What the retry loop of one request remembers between attempts."""

    count: int = 0
    token: TokenSet | None = None
    last_error: PlatformError | None = None


class PlatformClient:
    """An HTTP client for one platform: signing, retries, throttling, tokens, redacted logs.

    Args:
        platform: platform name, used in logs, errors and the rate limiter.
        base_url: base of relative request paths (a simulator's ``base_url`` in tests).
        classify: maps a response to a platform error (``None`` = success or
            "use the HTTP status"); called on every response.
        prepare: called on every attempt with a fresh copy of the request and
            the current token set; adds timestamps, signature, token.
        token_manager: source of access tokens; enables refresh-and-retry on
            :class:`~omniplug.errors.TokenExpiredError` and HTTP 401.
        rate_limiter: bucket to draw one token from per attempt (share one per
            platform: :func:`~omniplug.http.rate_limiter_for`).
        retry: the retry policy.
        request_log: in-memory log that receives one entry per attempt.
        secrets: literal secret values (app secret, ...) scrubbed from all logs
            and error messages; current token values are scrubbed too.
        timeout: seconds for connect/read/write of one attempt.
        transport: an httpx transport (e.g. ``httpx.MockTransport``).
        sleep: how retry waits are performed (inject a fake in tests).
        headers: default headers sent with every request.
    """

    def __init__(
        self,
        platform: str,
        base_url: str,
        *,
        classify: Classifier | None = None,
        prepare: Preparer | None = None,
        token_manager: TokenManager | None = None,
        rate_limiter: TokenBucket | None = None,
        retry: RetryPolicy = RetryPolicy(),
        request_log: RequestLog | None = None,
        secrets: Iterable[str] = (),
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url
        self.retry = retry
        self.request_log = request_log
        self._classify = classify
        self._prepare = prepare
        self._tokens = token_manager
        self._limiter = rate_limiter
        self._secrets = tuple(secrets)
        remember_secrets(self._secrets)
        guard_library_loggers()
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url, timeout=httpx.Timeout(timeout), transport=transport, headers=headers,
            verify=_shared_ssl_context(),
        )

    # -- public API ---------------------------------------------------------

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request with retries and return the successful response.

        Raises a :class:`~omniplug.errors.PlatformError` subclass (the last
        classified error) when the platform refuses the request or keeps
        failing; its message names the platform, the method and path, and
        what to do.
        """
        spec = RequestSpec(
            method.upper(),
            path_or_url,
            dict(params or {}),
            data,
            json,
            content,
            dict(headers or {}),
        )
        return self._send(spec, want_json=False)[0]

    def request_json(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Like :meth:`request`, returning the parsed JSON body.

        A success response whose body is not JSON counts as a transient
        failure (a proxy's error page, a truncated body) and is retried.
        """
        spec = RequestSpec(
            method.upper(),
            path_or_url,
            dict(params or {}),
            data,
            json,
            content,
            dict(headers or {}),
        )
        return self._send(spec, want_json=True)[1]

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the retry loop -----------------------------------------------------

    def _send(self, spec: RequestSpec, *, want_json: bool) -> tuple[httpx.Response, Any]:
        attempts = _Attempts()
        refreshed = False
        while True:
            retrying = self.retry.retrying(sleep=self._sleep, before_sleep=self._log_wait)
            try:
                return retrying(self._attempt, spec, attempts, want_json)
            except TokenExpiredError as err:
                # One refresh per request: a second expiry means the refresh
                # did not help, and looping would hammer the token endpoint.
                if self._tokens is None or refreshed or attempts.token is None:
                    raise self._explain(err, spec, attempts) from err.__cause__
                refreshed = True
                self._tokens.refresh(attempts.token)
            except PlatformError as err:
                raise self._explain(err, spec, attempts) from err.__cause__

    def _attempt(
        self, spec: RequestSpec, attempts: _Attempts, want_json: bool
    ) -> tuple[httpx.Response, Any]:
        attempts.count += 1
        token = self._tokens.current() if self._tokens is not None else None
        attempts.token = token
        prepared = spec.copy()
        if self._prepare is not None:
            # Either style works: mutate the copy in place, or return a new spec.
            prepared = self._prepare(prepared, token) or prepared
        if self._limiter is not None:
            self._limiter.acquire()
        request = self._http.build_request(
            prepared.method,
            prepared.url,
            params=prepared.params or None,
            data=prepared.data,
            json=prepared.json,
            content=prepared.content,
            headers=prepared.headers or None,
        )
        secrets = self._secret_values(token)
        remember_secrets(secrets)  # httpx logs the URL inside send(): register first
        at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            response = self._http.send(request)
        except httpx.TransportError as exc:
            failure = self._transport_error(exc)
            self._record(request, None, at, started, attempts.count, failure, secrets)
            attempts.last_error = failure
            raise failure from exc

        error = self._classify_response(response)
        payload: Any = None
        if error is None and want_json:
            try:
                payload = response.json()
            except ValueError:
                error = TransientError(
                    f"HTTP {response.status_code} with a body that is not JSON",
                    platform=self.platform,
                    code=response.status_code,
                )
        self._record(request, response, at, started, attempts.count, error, secrets)
        if error is not None:
            attempts.last_error = error
            raise error
        return response, payload

    # -- classification -----------------------------------------------------

    def _classify_response(self, response: httpx.Response) -> PlatformError | None:
        error: PlatformError | None = None
        if self._classify is not None:
            try:
                error = self._classify(response)
            except Exception:
                # An HTML 502 page is not the platform's envelope: a classifier
                # choking on it must not hide the HTTP status. On a success
                # response the exception is a real problem and propagates.
                if response.is_success:
                    raise
                logger.debug(
                    "%s: classify failed on HTTP %s; using the status",
                    self.platform,
                    response.status_code,
                )
        if error is None:
            error = classify_status(self.platform, response)
        if error is None:
            return None
        if error.platform is None:
            error.platform = self.platform
        if isinstance(error, ThrottledError):
            error = self._bound_wait(error, response)
        return error

    def _bound_wait(self, error: ThrottledError, response: httpx.Response) -> ThrottledError:
        if error.retry_after is None:
            error.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        limit = self.retry.max_single_wait
        if error.retry_after is None or error.retry_after <= limit:
            return error
        return ThrottledError(
            f"{error} (the platform asks to wait {error.retry_after:.0f} s, longer than "
            f"max_single_wait {limit:.0f} s)",
            platform=error.platform,
            code=error.code,
            retry_after=error.retry_after,
            retryable=False,
        )

    def _transport_error(self, exc: httpx.TransportError) -> PlatformError:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            # Retried like any network failure, but the usual cause is a wrong
            # endpoint or no route to it: say where it tried to connect.
            try:
                host = exc.request.url.host
            except RuntimeError:  # an error raised before any request was attached
                host = "the endpoint"
            return TransientError(f"cannot connect to {host} ({detail}); check the platform's base_url and that "
                                  "this machine can reach it", platform=self.platform)
        if isinstance(exc, _RETRYABLE_TRANSPORT):
            return TransientError(f"no usable response ({detail})", platform=self.platform)
        return PlatformError(
            f"the request could not be sent ({detail}); check the base URL and proxy settings",
            platform=self.platform,
            retryable=False,
        )

    def _explain(
        self, error: PlatformError, spec: RequestSpec, attempts: _Attempts
    ) -> PlatformError:
        """Give the final error a message naming the platform, the request and what to do."""
        if error is not attempts.last_error:
            return error  # not from a response (e.g. no token saved): already explained
        secrets = self._secret_values(attempts.token)
        path = redact(spec.url.split("?", 1)[0], secrets)
        message = redact(str(error), secrets)
        error.args = (
            f"{self.platform}: {spec.method} {path} failed: {message}; "
            f"{what_to_do(error, attempts.count)}",
        )
        return error

    # -- logging --------------------------------------------------------------

    def _secret_values(self, token: TokenSet | None) -> tuple[str, ...]:
        values = list(self._secrets)
        if token is not None:
            values.append(token.access_token.get_secret_value())
            if token.refresh_token is not None:
                values.append(token.refresh_token.get_secret_value())
        if self._tokens is not None:
            values.extend(self._tokens.secret_values())
        return tuple(values)

    def _record(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        at: datetime,
        started: float,
        attempt: int,
        error: PlatformError | None,
        secrets: tuple[str, ...],
    ) -> None:
        entry = RequestLogEntry(
            platform=self.platform,
            method=request.method,
            url=redact(str(request.url), secrets),
            attempt=attempt,
            status=response.status_code if response is not None else None,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            error=redact(f"{type(error).__name__}: {error}", secrets)
            if error is not None
            else None,
            request_body=preview(redact(request.content, secrets)) if request.content else None,
            response_body=preview(redact(response.content, secrets))
            if response is not None
            else None,
            at=at,
        )
        emit(entry, self.request_log)

    def _log_wait(self, error: BaseException, wait: float, attempt: int) -> None:
        logger.info(
            "%s: %s; retrying in %.1f s (attempt %d of %d failed)",
            self.platform,
            type(error).__name__,
            wait,
            attempt,
            self.retry.max_attempts,
        )


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs ~70 ms each time."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
