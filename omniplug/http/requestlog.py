"""The request log: one redacted entry per HTTP attempt.

Every attempt a :class:`~omniplug.http.PlatformClient` makes is written to the
``omniplug.http`` logger (INFO: platform, method, redacted URL, status,
elapsed time, attempt number; DEBUG adds the redacted request and response
bodies) and, when the client was given one, appended to an in-memory
:class:`RequestLog` that tests and the contract suite can inspect.
Nothing reaches either place without going through :func:`~omniplug.http.redact`.

httpx itself logs every request URL (query included) at INFO on the ``httpx``
logger; :func:`guard_library_loggers` puts a filter there that redacts those
records too, with every secret a client has registered.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from omniplug.http.redact import redact

__all__ = ["LOGGER_NAME", "RequestLog", "RequestLogEntry"]

#: Name of the logger every HTTP attempt is written to.
LOGGER_NAME = "omniplug.http"

logger = logging.getLogger(LOGGER_NAME)

#: Bodies are cut to this many characters in DEBUG logs and log entries.
BODY_PREVIEW_CHARS = 2000


@dataclass(frozen=True)
class RequestLogEntry:
    """One HTTP attempt, already redacted.

    Attributes:
        platform: platform name.
        method: HTTP method.
        url: full URL with secret query parameters and secret values masked.
        attempt: 1 for the first try of a request, 2 for the first retry, ...
        status: HTTP status, or ``None`` when no response arrived.
        elapsed_ms: time from sending to the end of the response (or the error).
        error: ``"ClassName: message"`` when the attempt failed (transport
            error or classified platform error), else ``None``.
        request_body: redacted, shortened request body (``None`` if empty).
        response_body: redacted, shortened response body (``None`` if none).
        at: when the attempt started (UTC).
    """

    platform: str
    method: str
    url: str
    attempt: int
    status: int | None
    elapsed_ms: float
    error: str | None
    request_body: str | None
    response_body: str | None
    at: datetime

    def summary(self) -> str:
        """The one-line INFO form of this entry."""
        status = self.status if self.status is not None else "no response"
        line = (
            f"{self.platform} {self.method} {self.url} -> {status} "
            f"in {self.elapsed_ms:.0f} ms (attempt {self.attempt})"
        )
        return f"{line}: {self.error}" if self.error else line


class RequestLog:
    """A thread-safe, bounded in-memory list of :class:`RequestLogEntry`.

    Args:
        maxlen: keep at most this many most recent entries (``None``: all).
    """

    def __init__(self, maxlen: int | None = 10_000) -> None:
        self._entries: deque[RequestLogEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, entry: RequestLogEntry) -> None:
        """Add one entry."""
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> list[RequestLogEntry]:
        """A snapshot of the entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __iter__(self) -> Iterator[RequestLogEntry]:
        return iter(self.entries)


def emit(entry: RequestLogEntry, request_log: RequestLog | None) -> None:
    """Write ``entry`` to the ``omniplug.http`` logger and to ``request_log``."""
    if request_log is not None:
        request_log.append(entry)
    level = logging.WARNING if entry.error else logging.INFO
    logger.log(level, "%s", entry.summary())
    if logger.isEnabledFor(logging.DEBUG):
        if entry.request_body:
            logger.debug("%s request body: %s", entry.platform, entry.request_body)
        if entry.response_body:
            logger.debug("%s response body: %s", entry.platform, entry.response_body)


# Personal data that response bodies carry (receiver phones, member emails):
# masked in log previews, since raw phones and emails must never be stored.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_personal_data(text: str) -> str:
    """``text`` with mainland mobile numbers and email addresses masked."""
    return _EMAIL.sub("<email>", _MOBILE.sub("<phone>", text))


def preview(text: str | None) -> str | None:
    """Shorten an (already redacted) body for logging, personal data masked."""
    if not text:
        return None
    text = mask_personal_data(text)
    if len(text) <= BODY_PREVIEW_CHARS:
        return text
    return f"{text[:BODY_PREVIEW_CHARS]}... ({len(text)} chars)"


# Secrets of every client of this process: the library loggers below cannot
# know which client a record came from, so they scrub all of them.
_known_secrets: set[str] = set()
_known_lock = threading.Lock()
# Loggers of httpx/httpcore whose records can carry URLs or headers.
_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
)


def remember_secrets(values: Iterable[str]) -> None:
    """Register secret values to scrub from the records of httpx's own loggers."""
    with _known_lock:
        _known_secrets.update(v for v in values if v)


class _LibraryRedactionFilter(logging.Filter):
    """Redacts records of third-party loggers in place (never drops them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _known_lock:
            secrets = tuple(_known_secrets)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as usual
            return True
        record.msg = redact(message, secrets)
        record.args = None
        return True


_guard = _LibraryRedactionFilter()


def guard_library_loggers() -> None:
    """Install the redacting filter on httpx's and httpcore's loggers (idempotent)."""
    for name in _LIBRARY_LOGGERS:
        lib_logger = logging.getLogger(name)
        if _guard not in lib_logger.filters:
            lib_logger.addFilter(_guard)
