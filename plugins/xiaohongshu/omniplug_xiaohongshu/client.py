"""Talking to Xiaohongshu: Ark signing, error envelopes, Juguang token refresh.

Two families of API, two envelopes:

* Juguang and Pugongying (``adapi.xiaohongshu.com/api/open/...``): JSON POST
  with an ``Access-Token`` header, answers ``{code, success, msg, data}``
  (HTTP 200 also for errors). Access tokens last a day, refresh tokens 30
  days, and a refresh hands out a *new* refresh token (the old one dies).
* Ark (``ark.xiaohongshu.com/ark/open_api/v3/common_controller``): one JSON
  POST gateway dispatching on ``method``; every call carries ``appId``,
  ``timestamp`` (UNIX seconds), ``version`` and an md5 ``sign`` over those
  system parameters plus ``accessToken``; answers
  ``{success, error_code, error_msg, data}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
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
from omniplug.fields import json_loads_exact
from omniplug.http import PlatformClient, RequestSpec
from omniplug.tokens import TokenSet
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.codes import PLATFORM

ARK_PATH = "/ark/open_api/v3/common_controller"
ARK_VERSION = "2.0"
REFRESH_PATH = "/api/open/oauth2/refresh_token"
PGY_PREFIX = "/api/open/pgy/"

Prepare = Callable[[RequestSpec, TokenSet | None], RequestSpec]
Classify = Callable[[httpx.Response], PlatformError | None]


def utc_now() -> datetime:
    """The real current time, UTC."""
    return datetime.now(UTC)


# -- Ark ---------------------------------------------------------------------------


def ark_sign(method: str, app_id: str, timestamp: int | str, version: str, secret: str) -> str:
    """Ark's signature: lower-case hex MD5 of ``method?appId=..&timestamp=..&version=..`` + secret.

    Only these four system parameters are signed; ``accessToken`` and the
    method's own fields are not.
    """
    text = f"{method}?appId={app_id}&timestamp={timestamp}&version={version}{secret}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def make_ark_prepare(app_id: str, secret: str, access_token: str, now: Callable[[], datetime]) -> Prepare:
    """A ``prepare`` that stamps, signs and authorises every Ark attempt afresh.

    The business fields travel at the top level of the JSON body next to the
    system parameters, as the gateway expects.
    """

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        body = dict(spec.json or {})
        timestamp = int(now().timestamp())
        body.update(appId=app_id, timestamp=timestamp, version=ARK_VERSION)
        body["sign"] = ark_sign(body["method"], app_id, timestamp, ARK_VERSION, secret)
        body["accessToken"] = access_token
        spec.json = body
        return spec

    return prepare


def make_ark_classify(throttle_wait: float) -> Classify:
    """Map Ark's ``{success: false, error_code, error_msg}`` onto omniplug's error classes."""

    def classify(response: httpx.Response) -> PlatformError | None:
        body = _json_body(response)
        if body is None:
            return _not_json(response)
        if not isinstance(body, dict) or body.get("success", True) is not False:
            return None
        code, msg = body.get("error_code"), body.get("error_msg", "")
        text = f"Ark error {code}: {msg}"
        if code == codes.ARK_BAD_SIGN:
            return SignatureError(
                f"{text}: the Ark signature check failed; check ark_app_secret (and ark_app_id) "
                "in [platforms.xiaohongshu]", platform=PLATFORM, code=code)
        if code == codes.ARK_BAD_APP:
            return AuthError(f"{text}: check ark_app_id in [platforms.xiaohongshu]", platform=PLATFORM, code=code)
        if code == codes.ARK_TOKEN_INVALID:
            return AuthError(f"{text}: the Ark accessToken is invalid or expired; re-authorise the shop "
                             "and update ark_access_token", platform=PLATFORM, code=code)
        if code == codes.ARK_BAD_TIMESTAMP:
            return AuthError(f"{text}: the request timestamp was refused; check this machine's clock",
                             platform=PLATFORM, code=code)
        if code == codes.ARK_THROTTLED:
            return ThrottledError(text, platform=PLATFORM, code=code, retry_after=throttle_wait)
        if code == codes.ARK_BUSY:
            return TransientError(text, platform=PLATFORM, code=code)
        return PlatformError(text, platform=PLATFORM, code=code)

    return classify


# -- Juguang / Pugongying --------------------------------------------------------


def make_jg_prepare(pgy_auth_header: str) -> Prepare:
    """A ``prepare`` that puts the current access token on every attempt.

    Juguang takes it in an ``Access-Token`` header. Pugongying calls use the
    same header unless ``pgy_auth_header`` is ``"Bearer"`` (one public caller
    sends ``Authorization: Bearer``; which one the gateway requires is not
    documented, so it is configurable).
    """

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        if token is None:
            return spec
        value = token.access_token.get_secret_value()
        if pgy_auth_header == "Bearer" and spec.url.startswith(PGY_PREFIX):
            spec.headers = {**spec.headers, "Authorization": f"Bearer {value}"}
        else:
            spec.headers = {**spec.headers, "Access-Token": value}
        return spec

    return prepare


def make_jg_classify(
    throttle_codes: Collection[int], token_expired_codes: Collection[int], throttle_wait: float
) -> Classify:
    """Map the Juguang/Pugongying ``{code, success, msg}`` envelope onto omniplug's error classes.

    The throttle and token codes are configurable because Xiaohongshu does
    not publish them; a throttle answer carries no wait, so ``throttle_wait``
    seconds are waited before the retry.
    """

    def classify(response: httpx.Response) -> PlatformError | None:
        body = _json_body(response)
        if body is None:
            return _not_json(response)
        if not isinstance(body, dict) or body.get("code", codes.JG_OK) in (codes.JG_OK, None):
            return None
        code, msg = body.get("code"), body.get("msg", "")
        text = f"Juguang error {code}: {msg}"
        if code in throttle_codes:
            return ThrottledError(text, platform=PLATFORM, code=code, retry_after=throttle_wait)
        if code in token_expired_codes:
            return TokenExpiredError(text, platform=PLATFORM, code=code)
        if code == codes.JG_NO_PERMISSION:
            return AuthError(f"{text}: the token is not authorised for this advertiser/brand user; check "
                             "advertiser_id and user_id in [platforms.xiaohongshu]", platform=PLATFORM, code=code)
        return PlatformError(text, platform=PLATFORM, code=code)

    return classify


def make_jg_refresh(
    oauth_base_url: str, app_id: int, secret: str, now: Callable[[], datetime], timeout: float = 30.0
) -> Callable[[TokenSet], TokenSet]:
    """The Juguang refresh call: trades the refresh token for a new (rotated) pair.

    ``POST /api/open/oauth2/refresh_token`` with ``{app_id, secret,
    refresh_token}``; the answer's ``access_token_expires_in`` (about a day)
    and ``refresh_token_expires_in`` (about 30 days) set the expiry times.
    """

    def refresh(stale: TokenSet) -> TokenSet:
        if stale.refresh_token is None:
            raise AuthError("xiaohongshu: the Juguang access token expired and no refresh_token is configured; "
                            "re-authorise at ad-market.xiaohongshu.com and update access_token/refresh_token",
                            platform=PLATFORM)
        try:
            response = httpx.post(
                f"{oauth_base_url.rstrip('/')}{REFRESH_PATH}",
                json={"app_id": app_id, "secret": secret,
                      "refresh_token": stale.refresh_token.get_secret_value()},
                timeout=timeout,
            )
            body = json_loads_exact(response.content)
        except (httpx.TransportError, ValueError) as exc:
            raise TransientError(f"xiaohongshu: the Juguang token refresh failed ({type(exc).__name__}); "
                                 "run again later", platform=PLATFORM) from None
        if not isinstance(body, dict) or body.get("code") != codes.JG_OK or not body.get("data"):
            code = body.get("code") if isinstance(body, dict) else None
            msg = body.get("msg") if isinstance(body, dict) else ""
            raise AuthError(
                f"xiaohongshu: Juguang refused the token refresh (code {code}: {msg}); check app_id and secret "
                "in [platforms.xiaohongshu], or re-authorise if the refresh token expired or was already used",
                platform=PLATFORM, code=code)
        data = body["data"]
        issued = now()
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=issued + timedelta(seconds=int(data["access_token_expires_in"])),
            refresh_expires_at=issued + timedelta(seconds=int(data["refresh_token_expires_in"])),
            extra={k: str(data[k]) for k in ("user_id", "app_id") if data.get(k) is not None},
        )

    return refresh


# -- shared -----------------------------------------------------------------------


def post(http: PlatformClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body`` as JSON and return the envelope's ``data`` (numbers parsed exactly).

    Error envelopes never get here: the client's ``classify`` turned them
    into exceptions. Ids above 2**53 stay exact ints, decimals become ``Decimal``.
    """
    response = http.request("POST", path, json=body)
    envelope = json_loads_exact(response.content)
    data = envelope.get("data") if isinstance(envelope, dict) else None
    return data if isinstance(data, dict) else {}


def _json_body(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        return {}  # HTTP-level errors are classified by the client itself
    try:
        return response.json()
    except ValueError:
        return None


def _not_json(response: httpx.Response) -> PlatformError:
    # A gateway's HTML error page on HTTP 200: usually a transient edge problem.
    return TransientError(f"HTTP {response.status_code} with a body that is not JSON", platform=PLATFORM)
