"""The HTTP toolkit platform plugins are built on.

* :class:`PlatformClient` - an ``httpx`` client with per-attempt signing
  (``prepare``), error-envelope mapping (``classify``), retries that honour
  the platform's requested waits, one token refresh per request, rate
  limiting and a redacted request log;
* :class:`RetryPolicy` - attempts, backoff, the longest wait worth sitting out;
* :class:`TokenManager` - fresh access tokens, rotated refresh tokens saved before use;
* :class:`TokenBucket` / :func:`rate_limiter_for` - one shared QPS budget per platform;
* :func:`paginate_pages`, :func:`paginate_cursor`, :func:`paginate_id_window` -
  pagination that ends or raises :class:`~omniplug.errors.PaginationError`;
* :func:`redact`, :class:`RequestLog` - secrets never reach a log;
* :func:`parse_ban_seconds`, :func:`parse_retry_after`, :func:`classify_status` -
  building blocks for a plugin's ``classify``.
"""

from __future__ import annotations

from omniplug.http.classify import classify_status, parse_ban_seconds, parse_retry_after
from omniplug.http.client import Classifier, PlatformClient, Preparer, RequestSpec
from omniplug.http.oauth import TokenManager
from omniplug.http.paginate import (
    CursorPage,
    FetchedCursorPage,
    FetchedIdPage,
    FetchedPage,
    Page,
    paginate_cursor,
    paginate_id_window,
    paginate_pages,
)
from omniplug.http.ratelimit import TokenBucket, rate_limiter_for
from omniplug.http.redact import MASK, is_secret_key, redact
from omniplug.http.requestlog import LOGGER_NAME, RequestLog, RequestLogEntry
from omniplug.http.retry import RetryPolicy, is_retryable

__all__ = [
    "LOGGER_NAME",
    "MASK",
    "Classifier",
    "CursorPage",
    "FetchedCursorPage",
    "FetchedIdPage",
    "FetchedPage",
    "Page",
    "PlatformClient",
    "Preparer",
    "RequestLog",
    "RequestLogEntry",
    "RequestSpec",
    "RetryPolicy",
    "TokenBucket",
    "TokenManager",
    "classify_status",
    "is_retryable",
    "is_secret_key",
    "paginate_cursor",
    "paginate_id_window",
    "paginate_pages",
    "parse_ban_seconds",
    "parse_retry_after",
    "rate_limiter_for",
    "redact",
]
