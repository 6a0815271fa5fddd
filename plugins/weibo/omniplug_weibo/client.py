"""Talking to Weibo: the access token on every request, error envelopes, hourly limits, OAuth.

Weibo's open API (``https://api.weibo.com/2/...``) has no request signing:
every call carries the OAuth 2.0 access token, either as the
``access_token`` query parameter or as the header
``Authorization: OAuth2 <token>``. Errors come as
``{"request": "/2/...json", "error_code": 10023, "error": "..."}`` with HTTP
400/403. Rate limits are **hourly** counters per user and per IP (codes
10023 / 10022, 10024 for one API), so a throttled call can only succeed
from the top of the next hour. Web apps get no refresh token: an expired
token (21327) or an invalid one (21332) needs the brand to authorise again.

The 超级粉丝通 ads host answers ``{"code": 0, "message": "OK", "data": ...}``
and takes ``Authorization: Bearer <token>``; :func:`make_classify` reads
both envelopes with one table of codes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from omniplug.errors import (
    AuthError,
    PlatformError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.http import PlatformClient, RequestSpec
from omniplug.tokens import TokenSet

__all__ = [
    "PLATFORM",
    "RATE_LIMIT_CODES",
    "authorize_url",
    "error_code_of",
    "exchange_code",
    "make_ads_prepare",
    "make_classify",
    "make_prepare",
    "rate_limit_status",
    "seconds_to_next_hour",
    "token_info",
    "utc_now",
]

PLATFORM = "weibo"
#: 10022 IP requests, 10023 user requests, 10024 user requests for one API: out of the hourly limit.
RATE_LIMIT_CODES = frozenset({10022, 10023, 10024})
#: The token expired (21327; 21315 on older apps): only a new authorisation helps.
EXPIRED_CODES = frozenset({21315, 21327})
#: The token, app key or client credentials were refused.
AUTH_CODES = frozenset({10006, 21301, 21314, 21316, 21317, 21319, 21323, 21324, 21332, 21335})
#: Weibo's system-level failures that a retry can fix (system error, busy, RPC error...).
TRANSIENT_CODES = frozenset({10001, 10002, 10003, 10009, 10011})
#: Permission codes: the app lacks the API's scope or level.
PERMISSION_CODES = frozenset({10014, 20112})

REAUTHORISE = (
    "Weibo gives web apps no refresh_token: authorise the brand account again "
    "(https://api.weibo.com/oauth2/authorize) and put the new access_token in [platforms.weibo]"
)

TokenIn = Literal["param", "header"]


def utc_now() -> datetime:
    """The real current time, UTC."""
    return datetime.now(UTC)


def seconds_to_next_hour(now: datetime) -> float:
    """Seconds from ``now`` to the top of the next hour, plus one second of margin.

    Weibo's limits are counted per clock hour (``limit_time_unit`` HOURS), so
    a throttled caller can only get through once the hour turns. China has
    a whole-hour offset from UTC, so the hour turns at the same instant in both.
    """
    top = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return math.ceil((top - now).total_seconds()) + 1.0


def make_prepare(access_token: str, token_in: TokenIn) -> Callable[[RequestSpec, TokenSet | None], RequestSpec]:
    """A ``prepare`` hook for the open API: the access token as a parameter or an OAuth2 header.

    Runs on every attempt; Weibo has no signature or timestamp to renew.
    """

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        value = token.access_token.get_secret_value() if token is not None else access_token
        if token_in == "header":
            spec.headers = {**(spec.headers or {}), "Authorization": f"OAuth2 {value}"}
        else:
            spec.params = {**(spec.params or {}), "access_token": value}
        return spec

    return prepare


def make_ads_prepare(access_token: str) -> Callable[[RequestSpec, TokenSet | None], RequestSpec]:
    """A ``prepare`` hook for the ads host, which takes ``Authorization: Bearer <token>``."""

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        spec.headers = {**(spec.headers or {}), "Authorization": f"Bearer {access_token}"}
        return spec

    return prepare


def error_code_of(body: Any) -> tuple[int, str, str] | None:
    """``(code, message, request path)`` of a Weibo error body, or ``None`` for a success.

    Reads the open API's ``{request, error_code, error}`` and the ads host's
    ``{code, message}`` (``code`` 0 is success).
    """
    if not isinstance(body, Mapping):
        return None
    if "error_code" in body:
        return int(body["error_code"]), str(body.get("error", "")), str(body.get("request", ""))
    code = body.get("code")
    if code is not None and "message" in body and str(code) != "0":
        return int(code), str(body.get("message", "")), ""
    return None


def make_classify(now: Callable[[], datetime]) -> Callable[[httpx.Response], PlatformError | None]:
    """A ``classify`` hook: Weibo's error codes onto omniplug's error classes.

    ``now`` is the clock the hourly-limit wait is measured on.
    """

    def classify(response: httpx.Response) -> PlatformError | None:
        if "json" not in response.headers.get("content-type", ""):
            return None  # an edge proxy's page: the HTTP status decides
        found = error_code_of(response.json())
        if found is None:
            return None
        code, message, request = found
        where = request or response.request.url.path
        text = f"Weibo error {code} {message} ({where})"
        if code in RATE_LIMIT_CODES:
            wait = seconds_to_next_hour(now())
            return ThrottledError(
                f"{text}: Weibo's rate limits are hourly, the call can succeed from the top of the next hour",
                platform=PLATFORM, code=code, retry_after=wait,
            )
        if code in EXPIRED_CODES:
            return TokenExpiredError(f"{text}: the access token expired; {REAUTHORISE}", platform=PLATFORM, code=code)
        if code in AUTH_CODES:
            return AuthError(
                f"{text}: Weibo refused the credentials (Weibo signs nothing: the access token or app key "
                f"is wrong or revoked); {REAUTHORISE}",
                platform=PLATFORM, code=code,
            )
        if code in PERMISSION_CODES:
            return AuthError(f"{text}: the app lacks the permission for this API; ask Weibo to grant it",
                             platform=PLATFORM, code=code)
        if code in TRANSIENT_CODES:
            return TransientError(text, platform=PLATFORM, code=code)
        return PlatformError(text, platform=PLATFORM, code=code)

    return classify


def rate_limit_status(api: PlatformClient) -> dict[str, Any]:
    """``GET /2/account/rate_limit_status.json``: the hourly counters of this token and IP.

    Returns Weibo's fields as sent: ``ip_limit``, ``remaining_ip_hits``,
    ``user_limit``, ``remaining_user_hits``, ``reset_time`` (China time),
    ``reset_time_in_seconds``, ``limit_time_unit`` and ``api_rate_limits``.
    """
    body: dict[str, Any] = api.request_json("GET", "/2/account/rate_limit_status.json")
    return body


def token_info(api: PlatformClient, access_token: str) -> dict[str, Any]:
    """``POST /oauth2/get_token_info``: the token's ``uid``, ``appkey``, ``create_at`` and ``expire_in`` (seconds)."""
    body: dict[str, Any] = api.request_json("POST", "/oauth2/get_token_info", data={"access_token": access_token})
    return body


def authorize_url(base_url: str, app_key: str, redirect_uri: str, state: str = "") -> str:
    """The page where the brand account authorises the app (step 1 of the web OAuth flow)."""
    query = {"client_id": app_key, "redirect_uri": redirect_uri, "response_type": "code"}
    if state:
        query["state"] = state
    return f"{base_url.rstrip('/')}/oauth2/authorize?{urlencode(query)}"


def exchange_code(
    api: PlatformClient, *, app_key: str, app_secret: str, code: str, redirect_uri: str, now: datetime,
) -> TokenSet:
    """Trade the authorisation ``code`` for an access token (``POST /oauth2/access_token``).

    The answer has ``access_token``, ``expires_in``, ``remind_in`` and the
    authorising ``uid``; there is no refresh token for web apps. A wrong
    app secret raises :class:`~omniplug.errors.AuthError` after one request.
    """
    body = api.request_json("POST", "/oauth2/access_token", data={
        "client_id": app_key, "client_secret": app_secret, "grant_type": "authorization_code",
        "code": code, "redirect_uri": redirect_uri,
    })
    return TokenSet(
        access_token=body["access_token"],
        expires_at=now + timedelta(seconds=int(body["expires_in"])),
        extra={"uid": str(body.get("uid", ""))},
    )
