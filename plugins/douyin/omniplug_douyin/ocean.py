"""Talking to the Ocean Engine Marketing API (巨量引擎), which also serves Xingtu.

No request signature: every call carries the header ``Access-Token``. The
envelope is ``{"code", "message", "request_id", "data"}`` with HTTP 200 for
business errors; GET requests JSON-encode their list and object parameters
(``fields=["cost","show"]``). The access token lives 24 h and the refresh
token 30 days; a refresh issues a new pair and the old refresh token dies at
once, so the new pair is saved before it is used (:class:`TokenManager`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx

from omniplug.errors import (
    AuthError,
    PlatformError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.http import Page, PlatformClient, RequestSpec, paginate_pages
from omniplug.tokens import TokenSet
from omniplug_douyin.common import PLATFORM

__all__ = [
    "REFRESH_EXPIRED_CODE",
    "THROTTLE_CODES",
    "TRANSIENT_CODES",
    "data_of",
    "encode_params",
    "list_all",
    "make_classify",
    "make_refresh",
    "page_of",
    "prepare",
]

#: Frequency control: 40100 per app, 40110 per developer.
THROTTLE_CODES = frozenset({40100, 40110})
#: System error / timeout: worth retrying.
TRANSIENT_CODES = frozenset({50000})
#: The refresh token expired or was already used: re-authorise.
REFRESH_EXPIRED_CODE = 40103
#: Auth-code problems (used twice, expired) and permission errors: re-authorise.
AUTH_CODES = frozenset({40001, 40002, 40104, 40107, 40115, 40118})


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as Ocean Engine reads them: lists and objects JSON-encoded, the rest as text."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, dict)):
            out[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            out[key] = str(value)
    return out


def make_classify(
    expired_codes: Collection[int], throttle_wait: float
) -> Callable[[httpx.Response], PlatformError | None]:
    """A ``classify`` for Ocean Engine envelopes.

    ``expired_codes`` are the codes meaning "refresh the access token and
    retry" (40102 and 40105 by default; the exact meaning of 40102 is
    unconfirmed, so it is configurable). Frequency-control codes wait
    ``throttle_wait`` seconds: the platform does not say how long, and its
    QPS buckets refill every second.
    """
    expired = frozenset(expired_codes)

    def classify(response: httpx.Response) -> PlatformError | None:
        if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
            return None  # gateway errors: the client classifies the HTTP status
        body = response.json()
        if not isinstance(body, dict) or body.get("code") in (0, None):
            return None
        code = int(body["code"])
        text = f"Ocean Engine error {code}: {body.get('message', '')} (request_id {body.get('request_id', '?')})"
        if code in THROTTLE_CODES:
            return ThrottledError(text, platform=PLATFORM, code=code, retry_after=throttle_wait)
        if code in TRANSIENT_CODES:
            return TransientError(text, platform=PLATFORM, code=code)
        if code in expired:
            return TokenExpiredError(text, platform=PLATFORM, code=code)
        if code == REFRESH_EXPIRED_CODE or code in AUTH_CODES:
            return AuthError(f"{text}: re-authorise the advertiser in Ocean Engine and update "
                             "access_token/refresh_token in [platforms.douyin]", platform=PLATFORM, code=code)
        return PlatformError(text, platform=PLATFORM, code=code)

    return classify


def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
    """Add the ``Access-Token`` header (Ocean Engine signs nothing)."""
    if token is not None:
        spec.headers = {**(spec.headers or {}), "Access-Token": token.access_token.get_secret_value()}
    return spec


def _app_id(app_id: str) -> int | str:
    # The official SDKs send app_id as a JSON number.
    return int(app_id) if app_id.isdigit() else app_id


def make_refresh(
    http: PlatformClient, app_id: str, secret: str, now: Callable[[], datetime]
) -> Callable[[TokenSet], TokenSet]:
    """The refresh call: ``POST /open_api/oauth2/refresh_token/``, which rotates both tokens.

    ``http`` must be a client without a token manager (it is called while
    the manager refreshes).
    """

    def refresh(stale: TokenSet) -> TokenSet:
        if stale.refresh_token is None:
            raise AuthError("douyin: the Ocean Engine access token expired and no refresh_token is configured; "
                            "re-authorise and set refresh_token in [platforms.douyin]", platform=PLATFORM)
        body = http.request_json("POST", "/open_api/oauth2/refresh_token/", json={
            "app_id": _app_id(app_id), "secret": secret, "grant_type": "refresh_token",
            "refresh_token": stale.refresh_token.get_secret_value(),
        })
        data = data_of(body)
        issued = now()
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            expires_at=issued + timedelta(seconds=int(data["expires_in"])),
            refresh_expires_at=issued + timedelta(seconds=int(data["refresh_token_expires_in"])),
            extra={"advertiser_ids": [str(a) for a in data.get("advertiser_ids") or []]},
        )

    return refresh


def page_of(data: dict[str, Any], key: str = "list") -> Page[dict[str, Any]]:
    """A page-style answer (``data.list`` + ``data.page_info``) as a :class:`~omniplug.http.Page`."""
    info = data.get("page_info") or {}
    return Page(items=list(data.get(key) or []), has_next=int(info.get("page", 0)) < int(info.get("total_page", 0)),
                total=int(info.get("total_number", 0)))


def list_all(http: PlatformClient, path: str, params: dict[str, Any], page_size: int) -> list[dict[str, Any]]:
    """Every record of a small page-style list (projects, promotions, Xingtu demands), all pages."""

    def fetch_page(page_no: int) -> Page[dict[str, Any]]:
        body = http.request_json("GET", path, params=encode_params({**params, "page": page_no, "page_size": page_size}))
        return page_of(data_of(body))

    return [item for page in paginate_pages(fetch_page, platform=PLATFORM) for item in page.items]


def data_of(body: Any) -> dict[str, Any]:
    """The ``data`` object of a successful envelope (``classify`` has already vetted ``code``)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise PlatformError(f"Ocean Engine answered without a data object: {str(body)[:200]}", platform=PLATFORM)
    return body["data"]
