"""Turning HTTP responses into omniplug errors.

A plugin's ``classify(response)`` maps its platform's error envelope (often
HTTP 200 with an error object) to the classes of :mod:`omniplug.errors`;
whatever it leaves alone (returns ``None`` for) goes through
:func:`classify_status`, the HTTP-level defaults. The helpers here parse the
waits platforms ask for.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from omniplug.errors import (
    AuthError,
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)

__all__ = ["classify_status", "parse_ban_seconds", "parse_retry_after", "what_to_do"]

_BAN = re.compile(r"ban\s+will\s+last\s+for\s+(\d+(?:\.\d+)?)\s+more\s+seconds?", re.IGNORECASE)


def parse_ban_seconds(text: str | None) -> float | None:
    """Seconds from a TOP-style throttling message, or ``None`` if absent.

    Taobao/Tmall answer code 7 (App Call Limited) with a ``sub_msg`` such as
    ``"This ban will last for 2 more seconds"``; this returns ``2.0``.
    """
    if not text:
        return None
    match = _BAN.search(text)
    return float(match.group(1)) if match else None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` header value.

    Accepts delta-seconds (``"3"``) and an HTTP date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``, measured from ``now``, default the
    current time; a date in the past gives 0). Returns ``None`` for a missing
    or unreadable value.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT.
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def classify_status(platform: str, response: httpx.Response) -> PlatformError | None:
    """The default error for an HTTP status, or ``None`` for a success.

    401 -> :class:`TokenExpiredError` (refreshed once when the client has a
    token manager); 403 -> :class:`AuthError`; 429 -> :class:`ThrottledError`
    honouring ``Retry-After``; 5xx -> :class:`TransientError`; any other 4xx
    -> a non-retryable :class:`PlatformError`.
    """
    status = response.status_code
    if status < 400:
        return None
    text = f"HTTP {status} {response.reason_phrase}".rstrip()
    if status == 401:
        return TokenExpiredError(text, platform=platform, code=status)
    if status == 403:
        return AuthError(text, platform=platform, code=status)
    if status == 429:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        return ThrottledError(text, platform=platform, code=status, retry_after=wait)
    if status >= 500:
        return TransientError(text, platform=platform, code=status)
    return PlatformError(text, platform=platform, code=status, retryable=False)


def what_to_do(error: PlatformError, attempts: int) -> str:
    """A sentence telling the user what to do about ``error`` after ``attempts`` tries."""
    tries = f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}"
    if isinstance(error, SignatureError):
        return (
            "the request signature was refused: "
            "check the app key, app secret and sign method (not retried)"
        )
    if isinstance(error, TokenExpiredError):
        return (
            "the access token is expired or revoked: "
            "re-authorise the account if a refresh does not fix it"
        )
    if isinstance(error, AuthError):
        return (
            "the credentials or permissions were refused: "
            "check the app key, secret and granted scopes (not retried)"
        )
    if isinstance(error, ThrottledError):
        if not error.retryable:
            return "run again after the ban ends, or raise the client's RetryPolicy.max_single_wait"
        return (
            f"the platform kept throttling ({tries}): lower the configured rate or run again later"
        )
    if error.retryable:
        return f"the platform kept failing ({tries}): this is usually temporary, run again later"
    return "the platform refused the request: fix the request parameters (not retried)"
