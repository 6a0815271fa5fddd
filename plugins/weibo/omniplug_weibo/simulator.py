"""Weibo, played locally: the open API, its OAuth endpoints, the ads host and the picture CDN.

It serves the synthetic world's Weibo slice (:mod:`omniplug_weibo.sim_world`)
and checks what Weibo checks: the access token (``access_token`` parameter
or ``Authorization: OAuth2``; ``Bearer`` on the ads host) and its expiry,
hourly call limits per user, IP and API (10023 / 10022 / 10024), ``count``
limits (100 posts, 200 comments or reposts), the uid of ``user_timeline``
(only the authorising account's own posts), and report windows of at most
31 days. Errors come in Weibo's ``{request, error_code, error}`` form with
HTTP 400/403 (``{code, message}`` on the ads host).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from omniplug.testing.simulator import (
    Clock,
    SimRequest,
    SimResponse,
    SimulatorBase,
    route,
)
from omniplug.world import World, WorldConfig, build_world
from omniplug_weibo.sim_gate import (
    RATE_MESSAGES,
    Gate,
    Grant,
    ads_error,
    client_ip,
    open_api_error,
    token_of,
)
from omniplug_weibo.sim_media import MediaStore
from omniplug_weibo.sim_world import BRAND_UID, Record, WeiboView, render_view

__all__ = ["APP_KEY", "APP_SECRET", "WeiboSimulator"]

APP_KEY = "2839104756"
APP_SECRET = "5f0c9a1e7b3d4c2a8e6f1b0d9c7a5e3f"
REDIRECT_URI = "https://brand.example/weibo/callback"
#: ``count`` limits per timeline endpoint.
MAX_COUNT = {"/2/statuses/user_timeline.json": 100, "/2/comments/show.json": 200,
             "/2/statuses/repost_timeline.json": 200, "/v3/reports/interactions": 500}
MAX_PAGE_SIZE = 100
MAX_REPORT_DAYS = 31
STREAMS = ("statuses", "engagements", "ad_reports")


class _Refused(Exception):
    """A request the simulator answers with an error response."""

    def __init__(self, response: SimResponse) -> None:
        super().__init__("refused")
        self.response = response


def _refusable(handler: Callable[[WeiboSimulator, SimRequest], SimResponse]) -> Callable[..., SimResponse]:
    """Let a handler refuse a request by raising :class:`_Refused` from any check it calls."""

    @functools.wraps(handler)
    def serve(self: WeiboSimulator, req: SimRequest) -> SimResponse:
        try:
            return handler(self, req)
        except _Refused as refused:
            body = json.loads(refused.response.body)
            self.refusals.append((req.path, int(body.get("error_code") or body.get("code"))))
            return refused.response

    return serve


class WeiboSimulator(SimulatorBase):
    """The Weibo open API, OAuth, 超级粉丝通 ads host and picture URLs, on one loopback port.

    Args:
        seed: seed of the default world (``build_world(WorldConfig(seed=seed))``).
        port: port to bind (0: any free one).
        host: interface to bind.
        clock: simulated time; default frozen one day after the world's window.
        world: the world to serve (default: built from ``seed``).
        user_limit: calls per hour per user before 10023.
        ip_limit: calls per hour per IP before 10022.
        api_limit: calls per hour per user and API before 10024.
    """

    def __init__(
        self, *, seed: int = 0, port: int = 0, host: str = "127.0.0.1", clock: Clock | None = None,
        world: World | None = None, user_limit: int = 2000, ip_limit: int = 10000, api_limit: int = 1000,
    ) -> None:
        world = world or build_world(WorldConfig(seed=seed))
        clock = clock or Clock(frozen_at=world.config.end + timedelta(days=1))
        super().__init__(seed=seed, clock=clock, host=host, port=port)
        self.world = world
        self.view: WeiboView = render_view(world)
        self.uid = str(BRAND_UID)
        self.gate = Gate(clock, user_limit=user_limit, ip_limit=ip_limit, api_limit=api_limit)
        digest = hashlib.sha256(f"weibo-{seed}".encode()).hexdigest()
        self.initial_token, _ = self.gate.issue(BRAND_UID, APP_KEY, token=f"2.00{digest[:30]}")
        self.media = MediaStore(world, self.view.pictures)
        self._codes: set[str] = set()
        self._malformed: set[str] = set()
        #: ``(path, error code)`` of every refused call, oldest first (for tests).
        self.refusals: list[tuple[str, int]] = []

    # -- what `omniplug simulate` and the demo need --------------------------------------

    def pipeline_section(self) -> dict[str, Any]:
        """The ``[platforms.weibo]`` table that points a pipeline at this simulator."""
        return {"base_url": self.base_url, "ads_base_url": self.base_url, "access_token": self.initial_token,
                "app_key": APP_KEY, "app_secret": APP_SECRET, "uid": self.uid}

    def describe(self) -> list[str]:
        """Lines printed by ``omniplug simulate``: the settings it accepts."""
        return [f"{key} = {value!r}" for key, value in self.pipeline_section().items()] + [
            f"hourly limits: user {self.gate.user_limit}, IP {self.gate.ip_limit}, per API {self.gate.api_limit}",
        ]

    # -- test controls --------------------------------------------------------------------

    def throttle_next(self, times: int = 1, code: int = 10023) -> None:
        """Answer the next ``times`` API calls with the hourly rate-limit error ``code``."""
        self.gate.throttle_next(times, code)

    def set_limits(self, *, user: int | None = None, ip: int | None = None, api: int | None = None) -> None:
        """Change the hourly limits (counts so far this hour are kept)."""
        self.gate.user_limit = user if user is not None else self.gate.user_limit
        self.gate.ip_limit = ip if ip is not None else self.gate.ip_limit
        self.gate.api_limit = api if api is not None else self.gate.api_limit

    def expire_tokens(self, after_calls: int = 0) -> None:
        """Every access token expires now, or after ``after_calls`` more API calls (then calls get 21327)."""
        self.gate.expire_all(after_calls)

    def issue_token(self) -> str:
        """A fresh access token for the brand account (what authorising again gives)."""
        return self.gate.issue(BRAND_UID, APP_KEY)[0]

    def issue_code(self) -> str:
        """A one-time OAuth authorisation code for the brand account."""
        code = hashlib.sha256(f"{self.seed}-{len(self._codes)}-{self.clock.now()}".encode()).hexdigest()[:32]
        self._codes.add(code)
        return code

    def inject_malformed(self, stream: str) -> bool:
        """Corrupt one record of ``stream`` in the next page served (the contract's bad-record test)."""
        if stream not in STREAMS:
            return False
        self._malformed.add(stream)
        return True

    # -- gate -----------------------------------------------------------------------------

    def _admit(self, req: SimRequest, *, ads: bool, count: bool = True) -> Grant:
        fail = ((lambda c, m, s=400: ads_error(c, m, s)) if ads
                else (lambda c, m, s=400: open_api_error(req.path, c, m, s)))
        token = token_of(req, ads=ads)
        if token is None:
            raise _Refused(fail(10006, "source paramter(appkey) is missing"))
        grant = self.gate.grant(token)
        if grant is None:
            raise _Refused(fail(21332, "invalid_access_token"))
        if grant.expires_at <= self.clock.now():
            raise _Refused(fail(21327, "expired_token"))
        code = self.gate.admit(grant.uid, client_ip(req), req.path) if count else None
        if code is not None:
            raise _Refused(fail(code, RATE_MESSAGES[code].format(api=req.path), 403))
        return grant

    def _int(self, req: SimRequest, name: str, default: int, *, ads: bool = False, low: int = 0,
             high: int | None = None) -> int:
        raw = req.query.get(name, "")
        try:
            value = int(raw) if raw != "" else default
        except ValueError:
            value = -1
        if value < low or (high is not None and value > high):
            expect = f"{low} <= {name}" + (f" <= {high}" if high is not None else "")
            message = f"parameter ({name})'s value invalid,expect ({expect}), but get ({raw}), see doc for more info."
            raise _Refused(ads_error(10017, message) if ads else open_api_error(req.path, 10017, message))
        return value

    def _window(self, req: SimRequest, items: list[Record], *, ads: bool = False) -> list[Record]:
        """``since_id < id <= max_id`` (max_id 0 = no bound), then ``page`` of ``count``, newest first."""
        since_id = self._int(req, "since_id", 0, ads=ads)
        max_id = self._int(req, "max_id", 0, ads=ads)
        count = self._int(req, "count", 20, ads=ads, low=1, high=MAX_COUNT[req.path])
        page = self._int(req, "page", 1, ads=ads, low=1)
        chosen = [r for r in items if r["id"] > since_id and (max_id == 0 or r["id"] <= max_id)]
        return copy.deepcopy(chosen[(page - 1) * count: page * count])

    def _corrupt(self, stream: str, records: list[Record], pick: Any, field: str, value: Any) -> None:
        if stream in self._malformed:
            target = next((r for r in records if pick(r)), None)
            if target is not None:
                self._malformed.discard(stream)
                target[field] = value

    def _with_pictures(self, post: Record) -> Record:
        """Add the picture URLs (thumbnail, bmiddle, large) under this simulator's address."""
        if post.get("pic_ids"):
            pic = post["pic_ids"][0]
            urls = {size: f"{self.base_url}/media/{size}/{pic}.jpg" for size in ("thumbnail", "bmiddle", "large")}
            post.update(thumbnail_pic=urls["thumbnail"], bmiddle_pic=urls["bmiddle"], original_pic=urls["large"],
                        pic_urls=[{"thumbnail_pic": urls["thumbnail"]}])
        if post.get("retweeted_status"):
            self._with_pictures(post["retweeted_status"])
        return post

    def _status_param(self, req: SimRequest) -> int:
        post_id = self._int(req, "id", 0, low=1)
        if self.view.status(post_id) is None:
            raise _Refused(open_api_error(req.path, 20101, "Target weibo does not exist!"))
        return post_id

    # -- open API -------------------------------------------------------------------------

    def _timeline(self, key: str, page: list[Record], total: int) -> SimResponse:
        """A newest-first page as Weibo sends it: the list, the cursors and the total."""
        return SimResponse.json({key: page, "hasvisible": False, "previous_cursor": 0,
                                 "next_cursor": page[-1]["id"] - 1 if page else 0, "total_number": total})

    @route("GET", "/2/statuses/user_timeline.json")
    @_refusable
    def user_timeline(self, req: SimRequest) -> SimResponse:
        """The authorising account's posts, newest first."""
        grant = self._admit(req, ads=False)
        uid = req.query.get("uid")
        if uid not in (None, "", str(grant.uid)):
            raise _Refused(open_api_error(req.path, 21335, "request uid's value must be the current user"))
        posts = [self._with_pictures(p) for p in self._window(req, self.view.statuses)]
        self._corrupt("statuses", posts, lambda p: p.get("original_pic"), "created_at",
                      "Tue Feb 30 25:61:00 +0800 2026")
        return self._timeline("statuses", posts, len(self.view.statuses))

    @route("GET", "/2/comments/show.json")
    @_refusable
    def comments_show(self, req: SimRequest) -> SimResponse:
        """The comments of one post, newest first."""
        self._admit(req, ads=False)
        items = self.view.comments.get(self._status_param(req), [])
        comments = self._window(req, items)
        self._corrupt("engagements", comments, lambda c: True, "created_at", "Sun Oct 32 08:00:00 +0800 2026")
        return self._timeline("comments", comments, len(items))

    @route("GET", "/2/statuses/repost_timeline.json")
    @_refusable
    def repost_timeline(self, req: SimRequest) -> SimResponse:
        """The reposts of one post, newest first."""
        self._admit(req, ads=False)
        items = self.view.reposts.get(self._status_param(req), [])
        return self._timeline("reposts", self._window(req, items), len(items))

    @route("GET", "/2/account/rate_limit_status.json")
    @_refusable
    def rate_limit_status(self, req: SimRequest) -> SimResponse:
        """The hourly counters of the caller's token and IP (this call is not counted)."""
        grant = self._admit(req, ads=False, count=False)
        return SimResponse.json(self.gate.status(grant.uid, client_ip(req)))

    # -- OAuth ----------------------------------------------------------------------------

    @route("POST", "/oauth2/access_token")
    def access_token(self, req: SimRequest) -> SimResponse:
        """Authorisation code -> access token (no refresh token for web apps)."""
        form = req.params()
        if form.get("client_id") != APP_KEY or form.get("client_secret") != APP_SECRET:
            return open_api_error(req.path, 21324, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return open_api_error(req.path, 21323, "unsupported_grant_type")
        code = form.get("code", "")
        if code not in self._codes or form.get("redirect_uri") != REDIRECT_URI:
            return open_api_error(req.path, 21325, "invalid_grant")
        self._codes.discard(code)
        token, grant = self.gate.issue(BRAND_UID, APP_KEY)
        lifetime = int((grant.expires_at - grant.created_at).total_seconds())
        return SimResponse.json({"access_token": token, "expires_in": lifetime, "remind_in": str(lifetime),
                                 "uid": str(grant.uid), "isRealName": "true"})

    @route("POST", "/oauth2/get_token_info")
    def get_token_info(self, req: SimRequest) -> SimResponse:
        """A token's owner, app and remaining lifetime in seconds."""
        grant = self.gate.grant(req.params().get("access_token", ""))
        if grant is None:
            return open_api_error(req.path, 21332, "invalid_access_token")
        left = int((grant.expires_at - self.clock.now()).total_seconds())
        if left <= 0:
            return open_api_error(req.path, 21327, "expired_token")
        return SimResponse.json({"uid": grant.uid, "appkey": grant.app_key, "scope": "",
                                 "create_at": int(grant.created_at.timestamp()), "expire_in": left})

    # -- ads host (simulated: see README) ---------------------------------------------------

    def _ads_ok(self, data: Any) -> SimResponse:
        return SimResponse.json({"code": 0, "message": "OK", "data": data})

    def _paged(self, req: SimRequest, items: list[Record]) -> SimResponse:
        page = self._int(req, "page", 1, ads=True, low=1)
        size = self._int(req, "page_size", 20, ads=True, low=1, high=MAX_PAGE_SIZE)
        chunk = copy.deepcopy(items[(page - 1) * size: page * size])
        self._corrupt("ad_reports", chunk, lambda r: "cost" in r, "cost", "7.5O")
        total_page = (len(items) + size - 1) // size
        return self._ads_ok({"list": chunk, "page_info": {"page": page, "page_size": size,
                                                          "total_number": len(items), "total_page": total_page}})

    def _dates(self, req: SimRequest) -> tuple[str, str]:
        try:
            first = date.fromisoformat(req.query["start_date"])
            last = date.fromisoformat(req.query["end_date"])
        except (KeyError, ValueError):
            raise _Refused(ads_error(10016, "start_date and end_date (yyyy-MM-dd) are required")) from None
        if last < first or (last - first).days + 1 > MAX_REPORT_DAYS:
            raise _Refused(ads_error(10017, f"the report window must be 1-{MAX_REPORT_DAYS} days"))
        return first.isoformat(), last.isoformat()

    @route("GET", "/v3/creatives")
    @_refusable
    def creatives(self, req: SimRequest) -> SimResponse:
        """The 粉丝通 creative list: which campaign promotes which post."""
        self._admit(req, ads=True)
        return self._paged(req, self.view.creatives)

    @route("GET", "/v3/reports/creative_daily")
    @_refusable
    def creative_daily(self, req: SimRequest) -> SimResponse:
        """粉丝通 spend, exposures and clicks per creative and day."""
        self._admit(req, ads=True)
        first, last = self._dates(req)
        return self._paged(req, [r for r in self.view.creative_report if first <= r["date"] <= last])

    @route("GET", "/v3/kol/orders")
    @_refusable
    def kol_orders(self, req: SimRequest) -> SimResponse:
        """微任务 KOL orders published in the window."""
        self._admit(req, ads=True)
        first, last = self._dates(req)
        return self._paged(req, [r for r in self.view.kol_orders if first <= r["publish_date"] <= last])

    @route("GET", "/v3/reports/interactions")
    @_refusable
    def interactions(self, req: SimRequest) -> SimResponse:
        """Exposure and like records by uid, newest first, by since_id/max_id."""
        self._admit(req, ads=True)
        items = self._window(req, self.view.interactions, ads=True)
        return self._ads_ok({"list": items, "total_number": len(self.view.interactions)})

    # -- pictures ---------------------------------------------------------------------------

    def fallback(self, request: SimRequest) -> SimResponse | None:
        """``/media/<thumbnail|bmiddle|large>/<pic id>.jpg``: the creative's JPEG (public, like sinaimg.cn)."""
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and len(parts) == 3 and parts[0] == "media" and parts[2].endswith(".jpg"):
            data = self.media.get(parts[2][:-4], parts[1])
            if data is not None:
                return SimResponse.bytes(data, content_type="image/jpeg")
        return None
