"""The Douyin open platform (``open.douyin.com``): followers and their identifiers.

Calls carry the header ``access-token``. Answers are
``{"data": {..., "error_code", "description"}, "extra": {"error_code",
"logid", "now"}}``; ``error_code`` is sometimes a string. An expired access
token gives 10008 (or 2190008); ``POST /oauth/refresh_token/`` issues a new
15-day access token and does not extend the 30-day refresh token, whose
expiry gives 10010 (re-authorise).

The ``identities`` stream walks the brand account's follower list
(``/fans/list/``, cursor paging, at most 20 per page): each follower's
``open_id`` (per app) with its ``union_id`` (per developer account), and the
device ``oaid`` where the platform knows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.errors import AuthError, PlatformError, TokenExpiredError
from omniplug.fields import epoch_to_utc
from omniplug.http import CursorPage, PlatformClient, RequestSpec, paginate_cursor
from omniplug.rowmap import records_batch
from omniplug.tokens import TokenSet
from omniplug_douyin.common import PLATFORM

__all__ = [
    "EXPIRED_CODES",
    "FANS_PER_PAGE",
    "REFRESH_EXPIRED",
    "classify",
    "fetch_identities",
    "make_refresh",
    "map_fan",
    "prepare",
]

EXPIRED_CODES = frozenset({10008, 2190008})
REFRESH_EXPIRED = 10010
NO_PERMISSION = 10004
#: The follower list answers at most 20 per page.
FANS_PER_PAGE = 20


def _code(value: Any) -> int:
    # Sample payloads show error_code both as a number and as a string.
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return -1


def classify(response: httpx.Response) -> PlatformError | None:
    """Map the open platform's ``data.error_code`` onto omniplug's error classes."""
    if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
        return None
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    extra = body.get("extra") if isinstance(body, dict) else None
    code = _code((data or {}).get("error_code")) or _code((extra or {}).get("error_code"))
    if code == 0:
        return None
    description = (data or {}).get("description") or (extra or {}).get("description", "")
    text = f"Douyin open platform error {code}: {description}"
    if code in EXPIRED_CODES:
        return TokenExpiredError(text, platform=PLATFORM, code=code)
    if code in (REFRESH_EXPIRED, NO_PERMISSION):
        return AuthError(f"{text}: re-authorise the Douyin account and update open_access_token/"
                         "open_refresh_token in [platforms.douyin]", platform=PLATFORM, code=code)
    return PlatformError(text, platform=PLATFORM, code=code)


def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
    """Add the ``access-token`` header."""
    if token is not None:
        spec.headers = {**(spec.headers or {}), "access-token": token.access_token.get_secret_value()}
    return spec


def make_refresh(http: PlatformClient, client_key: str, now: Callable[[], datetime]) -> Callable[[TokenSet], TokenSet]:
    """The refresh call: ``POST /oauth/refresh_token/`` (the refresh token keeps its expiry)."""

    def refresh(stale: TokenSet) -> TokenSet:
        if stale.refresh_token is None:
            raise AuthError("douyin: the open-platform access token expired and no open_refresh_token is "
                            "configured; re-authorise", platform=PLATFORM)
        body = http.request_json("POST", "/oauth/refresh_token/", data={
            "client_key": client_key, "grant_type": "refresh_token",
            "refresh_token": stale.refresh_token.get_secret_value()})
        data = body["data"]
        issued = now()
        return TokenSet(access_token=data["access_token"],
                        refresh_token=data.get("refresh_token") or stale.refresh_token,
                        expires_at=issued + timedelta(seconds=int(data["expires_in"])),
                        refresh_expires_at=issued + timedelta(seconds=int(data["refresh_expires_in"])),
                        extra={"open_id": data.get("open_id")})

    return refresh


def fetch_identities(ctx: FetchContext, http: PlatformClient, open_id: str) -> Iterator[pa.RecordBatch]:
    """The follower list from the saved cursor on; each page's cursor is saved after it."""
    start = (ctx.cursor or {}).get("cursor", 0) if ctx.since is None else 0

    def fetch(cursor: Any) -> CursorPage[dict[str, Any]]:
        data = http.request_json("GET", "/fans/list/", params={"open_id": open_id, "cursor": cursor,
                                                              "count": FANS_PER_PAGE})["data"]
        return CursorPage(items=list(data.get("list") or []), next_cursor=data.get("cursor"),
                          has_more=bool(data.get("has_more")))

    for page in paginate_cursor(fetch, start=start, platform=PLATFORM):
        # Followers are a list, not a window: the next run continues after the last one seen.
        yield with_cursor(records_batch(page.items), {"cursor": page.next_cursor if page.next_cursor is not None
                                                  else page.cursor})


def map_fan(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One follower -> open_id <-> union_id, and oaid <-> open_id when the device is known."""
    open_id = rec["open_id"]
    if not open_id:
        raise KeyError("open_id")
    seen = epoch_to_utc(rec["follow_time"], unit="s")
    links = []
    if rec.get("union_id"):
        links.append({"platform": PLATFORM, "left_type": "douyin_openid", "left_value": open_id,
                      "right_type": "douyin_unionid", "right_value": rec["union_id"], "observed_at": seen})
    if rec.get("oaid"):
        links.append({"platform": PLATFORM, "left_type": "oaid", "left_value": rec["oaid"],
                      "right_type": "douyin_openid", "right_value": open_id, "observed_at": seen})
    return {"identity_links": links}
