"""The simulated Ocean Engine Marketing API (``/open_api/...``): OAuth, reports, library, touch data.

Checks what the real gateway checks: the ``Access-Token`` header (missing or
unknown: 40105, expired: 40102 or whatever code the simulator was built
with), the advertiser, JSON-encoded query parameters (40000 when they do not
parse), page sizes (reports 1-1000, lists 1-100), report and touch spans of at
most 30 days, frequency control (40100/40110) and system errors (50000) when
told to. The refresh endpoint rotates both tokens; the used refresh token dies.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.testing.simulator import Clock, SimRequest, SimResponse, route
from omniplug_douyin.sim_tokens import TokenBook
from omniplug_douyin.sim_world import RouteState, report_day

__all__ = ["JSON_PARAMS", "OceanError", "OceanRoutes", "ocean_reply", "paged"]

#: GET parameters Ocean Engine reads as JSON.
JSON_PARAMS = ("fields", "filtering", "group_by", "dimensions", "metrics", "filters", "order_by")
REPORT_DIMENSIONS = frozenset({"stat_time_day", "stat_time_hour", "cdp_project_id", "cdp_promotion_id", "material_id"})
REPORT_METRICS = frozenset({"stat_cost", "show_cnt", "click_cnt", "ctr", "cpm_platform", "convert_cnt"})
MAX_SPAN = timedelta(days=30)


class OceanError(Exception):
    """An Ocean Engine business error to answer (HTTP 200, ``code != 0``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ocean_reply(clock: Clock, data: Any = None, code: int = 0, message: str = "OK") -> SimResponse:
    """The Ocean Engine envelope; ``request_id`` is ``YYYYMMDDhhmmss`` + hex, as the real one."""
    stamp = clock.now().astimezone(CHINA_TZ).strftime("%Y%m%d%H%M%S")
    return SimResponse.json({"code": code, "message": message, "request_id": f"{stamp}{secrets.token_hex(10).upper()}",
                             "data": data if data is not None else {}})


def paged(items: list[dict[str, Any]], params: dict[str, Any], *, max_size: int, default_size: int = 20,
          key: str = "list") -> dict[str, Any]:
    """One page of ``items`` with ``page_info``; refuses a page size outside ``1..max_size``."""
    page, size = _int(params, "page", 1), _int(params, "page_size", default_size)
    if page < 1 or not 1 <= size <= max_size:
        raise OceanError(40000, f"page must be >= 1 and page_size between 1 and {max_size}")
    total = len(items)
    return {key: items[(page - 1) * size: page * size],
            "page_info": {"page": page, "page_size": size, "total_number": total, "total_page": -(-total // size)}}


def _int(params: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except (TypeError, ValueError):
        raise OceanError(40000, f"{name} must be an integer") from None


def _day(text: Any, name: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise OceanError(40000, f"{name} must be YYYY-MM-DD, got {text!r}") from None


def _instant(text: Any, name: str) -> datetime:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
    except ValueError:
        raise OceanError(40000, f"{name} must be 'YYYY-MM-DD HH:MM:SS', got {text!r}") from None


class OceanRoutes(RouteState):
    """Route handlers of Ocean Engine; mixed into :class:`~omniplug_douyin.simulator.DouyinSimulator`."""

    ocean_tokens: TokenBook
    advertiser_id: str
    app_id: str
    app_secret: str
    expired_code: int
    media_url: Callable[[str, str], str]
    media_md5: Callable[[str], tuple[str, int]]
    _auth_codes: set[str]

    # -- gate --------------------------------------------------------------------

    def ocean_call(self, req: SimRequest, handler: Callable[[dict[str, Any]], Any]) -> SimResponse:
        """Authenticate, throttle, decode the JSON parameters, then answer ``handler(params)``."""
        status = self.ocean_tokens.check(req.headers.get("Access-Token"))
        if status in ("missing", "unknown"):
            return ocean_reply(self.clock, code=40105, message="access_token无效或不存在")
        if status == "expired":
            return ocean_reply(self.clock, code=self.expired_code, message="access_token已过期")
        fault = self._take_fault("ocean")
        if fault is not None:
            return ocean_reply(self.clock, code=fault[0], message=fault[1])
        params: dict[str, Any] = dict(req.query)
        try:
            for name in JSON_PARAMS:
                if name in params:
                    try:
                        params[name] = json.loads(params[name])
                    except json.JSONDecodeError:
                        raise OceanError(40000, f"参数{name}不是合法的JSON") from None
            return ocean_reply(self.clock, handler(params))
        except OceanError as err:
            return ocean_reply(self.clock, code=err.code, message=err.message)

    def _advertiser(self, params: dict[str, Any], name: str = "advertiser_id", expected: str | None = None) -> None:
        if str(params.get(name, "")) != (expected or self.advertiser_id):
            raise OceanError(40002, f"无权限操作该账户: {name}={params.get(name)!r}")

    # -- OAuth ---------------------------------------------------------------------

    @route("POST", "/open_api/oauth2/access_token/")
    def oauth_access_token(self, req: SimRequest) -> SimResponse:
        """Trade an auth_code (usable once) for a token pair."""
        body = _json_body(req)
        if str(body.get("app_id")) != self.app_id or body.get("secret") != self.app_secret:
            return ocean_reply(self.clock, code=40001, message="app_id或secret错误")
        code = body.get("auth_code")
        if body.get("grant_type") != "auth_code" or code not in self._auth_codes:
            return ocean_reply(self.clock, code=40115, message="auth_code已被使用或已过期")
        self._auth_codes.discard(code)
        return ocean_reply(self.clock, self._token_data(self.ocean_tokens.issue()))

    @route("POST", "/open_api/oauth2/refresh_token/")
    def oauth_refresh_token(self, req: SimRequest) -> SimResponse:
        """Rotate: a new access and refresh token; the refresh token used stops working."""
        body = _json_body(req)
        if str(body.get("app_id")) != self.app_id or body.get("secret") != self.app_secret:
            return ocean_reply(self.clock, code=40001, message="app_id或secret错误")
        refreshing = body.get("grant_type") == "refresh_token"
        issued = self.ocean_tokens.refresh(body.get("refresh_token")) if refreshing else "missing"
        if isinstance(issued, str):
            return ocean_reply(self.clock, code=40103, message=f"refresh_token无效或已过期 ({issued})")
        return ocean_reply(self.clock, self._token_data(issued))

    def _token_data(self, issued: Any) -> dict[str, Any]:
        return {"access_token": issued.access_token, "refresh_token": issued.refresh_token,
                "expires_in": issued.expires_in, "refresh_token_expires_in": issued.refresh_expires_in,
                "advertiser_ids": [int(self.advertiser_id)]}

    # -- lists -----------------------------------------------------------------------

    @route("GET", "/open_api/v3.0/project/list/")
    def project_list(self, req: SimRequest) -> SimResponse:
        """Projects (campaigns) with their ``ad_type``."""
        return self._advertiser_list(req, self.view.projects)

    @route("GET", "/open_api/v3.0/promotion/list/")
    def promotion_list(self, req: SimRequest) -> SimResponse:
        """Promotions (ads) with the materials they run."""
        return self._advertiser_list(req, self.view.promotions)

    def _advertiser_list(self, req: SimRequest, items: list[dict[str, Any]]) -> SimResponse:
        def answer(p: dict[str, Any]) -> Any:
            self._advertiser(p)
            return paged(items, p, max_size=100, default_size=10)
        return self.ocean_call(req, answer)

    # -- reports -------------------------------------------------------------------------

    @route("GET", "/open_api/v3.0/report/custom/get/")
    def report_custom(self, req: SimRequest) -> SimResponse:
        """Daily rows by project and material; spans of at most 30 days, pages of at most 1000."""
        def answer(p: dict[str, Any]) -> Any:
            self._advertiser(p)
            dims, metrics = p.get("dimensions"), p.get("metrics")
            if not isinstance(dims, list) or not set(dims) <= REPORT_DIMENSIONS:
                raise OceanError(40000, f"dimensions must be a JSON array of {sorted(REPORT_DIMENSIONS)}")
            if not isinstance(metrics, list) or not set(metrics) <= REPORT_METRICS:
                raise OceanError(40000, f"metrics must be a JSON array of {sorted(REPORT_METRICS)}")
            first, last = _day(p.get("start_time"), "start_time"), _day(p.get("end_time"), "end_time")
            if last < first or (last - first) >= MAX_SPAN:
                raise OceanError(40000, "时间跨度不能超过30天 (start_time..end_time spans at most 30 days)")
            rows = [r for r in self.view.report_rows if first <= report_day(r) <= last]
            data = paged(rows, p, max_size=1000, key="rows")
            data["rows"] = self._corrupt("ad_reports", [json.loads(json.dumps(r)) for r in data["rows"]])
            return data
        return self.ocean_call(req, answer)

    # -- material library ------------------------------------------------------------------

    @route("GET", "/open_api/2/file/image/get/")
    def file_image_get(self, req: SimRequest) -> SimResponse:
        """Images of the library, with expiring preview URLs and MD5 signatures."""
        return self.ocean_call(req, lambda p: self._files("image", p))

    @route("GET", "/open_api/2/file/video/get/")
    def file_video_get(self, req: SimRequest) -> SimResponse:
        """Videos of the library, with expiring preview URLs and MD5 signatures."""
        return self.ocean_call(req, lambda p: self._files("video", p))

    def _files(self, kind: str, p: dict[str, Any]) -> Any:
        self._advertiser(p)
        filtering = p.get("filtering") or {}
        if not isinstance(filtering, dict):
            raise OceanError(40000, "filtering must be a JSON object")
        files = self.view.library[kind]
        if "start_time" in filtering or "end_time" in filtering:
            first = _day(filtering.get("start_time", "2016-10-26"), "filtering.start_time")
            last = _day(filtering.get("end_time", "2099-12-31"), "filtering.end_time")
            files = [f for f in files if first <= date.fromisoformat(f["create_time"][:10]) <= last]
        data = paged(files, p, max_size=100)
        served = []
        for record in data["list"]:
            item = dict(record)
            material_id = str(item["material_id"])
            item["signature"], item["size"] = self.media_md5(material_id)
            item["url"] = self.media_url(material_id, kind)
            if kind == "video":
                item.update(video_id=item["id"], duration=6.0, bit_rate=2_000_000, poster_url=item["url"] + "&poster=1")
            served.append(item)
        data["list"] = self._corrupt("materials", served)
        return data

    # -- crowd touch data ------------------------------------------------------------------------

    def touch_list(self, req: SimRequest) -> SimResponse:
        """User-level touch events between two China times; cursor paging, at most 100 per page."""
        def answer(p: dict[str, Any]) -> Any:
            self._advertiser(p)
            start, end = _instant(p.get("start_time"), "start_time"), _instant(p.get("end_time"), "end_time")
            if end <= start or end - start > MAX_SPAN:
                raise OceanError(40000, "时间跨度不能超过30天 (start_time..end_time spans at most 30 days)")
            cursor, count = _int(p, "cursor", 0), _int(p, "count", 20)
            if cursor < 0 or not 1 <= count <= 100:
                raise OceanError(40000, "cursor must be >= 0 and count between 1 and 100")
            lo, hi = p["start_time"], p["end_time"]
            events = [e for e in self.view.touches if lo <= e["event_time"] < hi]
            page = self._corrupt("touchpoints", [dict(e) for e in events[cursor: cursor + count]])
            nxt = cursor + len(page)
            return {"list": page, "page_info": {"cursor": nxt, "count": count, "has_more": nxt < len(events),
                                                "total_number": len(events)}}
        return self.ocean_call(req, answer)


def _json_body(req: SimRequest) -> dict[str, Any]:
    try:
        body = req.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}
