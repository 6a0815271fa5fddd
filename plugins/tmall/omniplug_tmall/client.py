"""Talking to the TOP gateway: signing each attempt, the error envelope, token refresh.

TOP answers HTTP 200 in both cases: a success body holds one key named after
the method (``taobao.trades.sold.get`` -> ``trades_sold_get_response``), a
failure body holds ``error_response`` with ``code``, ``msg``, ``sub_code``
and ``sub_msg``. :func:`classify` maps the failures onto omniplug's error
classes, which decide whether the client waits, retries, refreshes or stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from omniplug.errors import (
    AuthError,
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.fields import CHINA_TZ
from omniplug.http import PlatformClient, RequestSpec, parse_ban_seconds
from omniplug.tokens import TokenSet
from omniplug_tmall.signing import sign

__all__ = [
    "PLATFORM",
    "TIME_FORMAT",
    "call",
    "china_stamp",
    "classify",
    "clock_sleep",
    "make_prepare",
    "make_refresh",
    "response_key",
    "top_error",
    "unwrap",
    "utc_now",
]

PLATFORM = "tmall"
#: TOP's wall-clock format (China time, no offset).
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Call-limit codes: 7 is "App Call Limited"; 4/5/6/8 are the user/session/partner/frequency limits.
_LIMIT_CODES = {4, 5, 6, 7, 8}
_CONFIG_HINT = "[platforms.tmall]"


def utc_now() -> datetime:
    """The real current time, UTC."""
    return datetime.now(UTC)


def china_stamp(moment: datetime) -> str:
    """``moment`` as TOP's ``yyyy-MM-dd HH:mm:ss`` China wall time."""
    return moment.astimezone(CHINA_TZ).strftime(TIME_FORMAT)


def response_key(method: str) -> str:
    """The success key of a method: leading ``taobao.`` dropped, dots to underscores, ``_response``."""
    name = method.removeprefix("taobao.")
    return name.replace(".", "_") + "_response"


def make_prepare(
    app_key: str, secret: str, sign_method: str, now: Callable[[], datetime]
) -> Callable[[RequestSpec, TokenSet | None], RequestSpec]:
    """A ``prepare`` hook: fresh timestamp, the current session and a new signature on every attempt."""

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        params = {k: str(v) for k, v in (spec.data or {}).items() if v is not None}
        params.update(app_key=app_key, timestamp=china_stamp(now()), v="2.0", sign_method=sign_method,
                      format="json")
        if token is not None:
            params["session"] = token.access_token.get_secret_value()
        params["sign"] = sign(params, secret, sign_method)
        spec.data = params
        return spec

    return prepare


def top_error(err: Mapping[str, Any]) -> PlatformError:
    """The omniplug error for one TOP ``error_response`` object."""
    code = err.get("code")
    msg, sub_code, sub_msg = str(err.get("msg", "")), str(err.get("sub_code") or ""), str(err.get("sub_msg") or "")
    detail = f" ({sub_code}: {sub_msg})" if sub_code or sub_msg else ""
    text = f"TOP error {code} {msg}{detail}"
    try:
        number = int(code) if code is not None else None
    except (TypeError, ValueError):
        number = None
    if number in _LIMIT_CODES:
        return ThrottledError(text, platform=PLATFORM, code=code, retry_after=parse_ban_seconds(sub_msg))
    if number in (24, 25):
        return SignatureError(
            f"{text}: TOP's signature check failed; check app_secret and sign_method in {_CONFIG_HINT} "
            "(the secret of this app_key, sign_method md5, hmac or hmac-sha256)",
            platform=PLATFORM, code=code)
    if number == 27:
        return TokenExpiredError(f"{text}: the session expired or was revoked", platform=PLATFORM, code=code)
    if number == 26:
        return AuthError(f"{text}: this API needs the shop's session; set session in {_CONFIG_HINT}",
                         platform=PLATFORM, code=code)
    if number in (28, 29):
        return AuthError(f"{text}: check app_key in {_CONFIG_HINT}", platform=PLATFORM, code=code)
    if number in (11, 12):
        return AuthError(f"{text}: the app or the shop lacks the permission for this API", platform=PLATFORM,
                         code=code)
    if number in (30, 31):
        return PlatformError(f"{text}: the request timestamp was refused; check this machine's clock "
                             "(TOP allows 10 minutes of difference)", platform=PLATFORM, code=code)
    if number == 10 or sub_code.startswith("isp."):
        # Server-side trouble: the TOP docs say to retry after a pause.
        return TransientError(text, platform=PLATFORM, code=code)
    return PlatformError(text, platform=PLATFORM, code=code)


def classify(response: httpx.Response) -> PlatformError | None:
    """Map TOP's ``error_response`` envelope onto omniplug's error classes (``None``: no envelope)."""
    if "json" not in response.headers.get("content-type", ""):
        return None  # HTTP-level failures (a proxy's 502 page) are classified by the client
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error_response"), dict):
        return top_error(body["error_response"])
    return None


def call(http: PlatformClient, gateway: str, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Call one TOP method (POST, form-encoded) and return the object under its ``<method>_response`` key."""
    body = http.request_json("POST", gateway, data={"method": method, **params})
    key = response_key(method)
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise PlatformError(f"tmall: {method} answered without {key!r} (got {keys})", platform=PLATFORM)
    return body[key]


def unwrap(container: Mapping[str, Any] | None, outer: str, inner: str) -> list[Any]:
    """A TOP double-wrapped list: ``{"trades": {"trade": [...]}}`` -> ``[...]`` (missing -> ``[]``)."""
    wrapped = (container or {}).get(outer)
    if not wrapped:
        return []
    items = wrapped.get(inner) if isinstance(wrapped, dict) else wrapped
    if items is None:
        return []
    return list(items) if isinstance(items, list) else [items]


def make_refresh(
    oauth_url: str, app_key: str, secret: str, *, timeout: float, now: Callable[[], datetime]
) -> Callable[[TokenSet], TokenSet]:
    """The refresh call of ``oauth.taobao.com/token``: the refresh token buys a new session.

    The refresh token is rotated (the new one replaces the old, which stops
    working); omniplug's :class:`~omniplug.http.TokenManager` saves the new
    set before it is used.
    """

    def refresh(stale: TokenSet) -> TokenSet:
        if stale.refresh_token is None:
            raise AuthError(
                "tmall: the shop's session expired or was revoked (TOP code 27) and no refresh_token is "
                f"configured; re-authorise the shop at oauth.taobao.com and put the new session in {_CONFIG_HINT}",
                platform=PLATFORM, code=27)
        form = {"grant_type": "refresh_token", "client_id": app_key, "client_secret": secret,
                "refresh_token": stale.refresh_token.get_secret_value()}
        try:
            response = httpx.post(oauth_url, data=form, timeout=timeout)
            body = response.json()
        except httpx.TransportError as exc:
            raise TransientError(f"tmall: the token endpoint could not be reached: {type(exc).__name__}",
                                 platform=PLATFORM) from None
        except ValueError:
            raise TransientError(f"tmall: the token endpoint answered HTTP {response.status_code} without JSON",
                                 platform=PLATFORM) from None
        if not isinstance(body, dict) or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else body
            raise AuthError(f"tmall: the token endpoint refused the refresh ({reason}); re-authorise the shop "
                            f"and update session/refresh_token in {_CONFIG_HINT}", platform=PLATFORM)
        issued = now()
        re_expires = body.get("re_expires_in")
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or stale.refresh_token,
            expires_at=issued + timedelta(seconds=int(body["expires_in"])) if body.get("expires_in") else None,
            refresh_expires_at=issued + timedelta(seconds=int(re_expires)) if re_expires else None,
            # Keep what the plugin noted on the stale set (which configured session seeded it).
            extra={**stale.extra, **{k: body[k] for k in ("taobao_user_id", "taobao_user_nick") if k in body}},
        )

    return refresh


def clock_sleep(now: Callable[[], datetime] | None) -> Callable[[float], Any]:
    """How retry waits are spent: on the simulated clock when ``now`` is a :class:`Clock`'s ``now``.

    Tests and the demo run a plugin on a simulator's clock (``ctx.now`` is
    ``clock.now``); waiting out a TOP ban must then move that clock instead
    of stalling the process. Otherwise waits are real.
    """
    owner = getattr(now, "__self__", None)
    sleep = getattr(owner, "sleep", None)
    return sleep if callable(sleep) else time.sleep
