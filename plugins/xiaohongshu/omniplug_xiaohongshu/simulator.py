"""Xiaohongshu, played locally: Juguang, Pugongying and Ark over real HTTP.

One server answers all three surfaces (point ``base_url``, ``ads_base_url``
and ``ark_base_url`` at it) and serves ``world.slice("xiaohongshu")`` of the
shared synthetic world, rendered by :mod:`omniplug_xiaohongshu.sim_world`.

What it checks, as the real platform does (or, where undocumented, as the
README says we assume):

* Juguang/Pugongying: the ``Access-Token`` header (Pugongying also accepts
  ``Authorization: Bearer``), access tokens that expire after 86399 s and
  refresh tokens after 2591999 s on the simulator clock, refresh-token
  rotation (a used refresh token and its access token stop working), the
  advertiser / brand user the token was granted for, Pugongying's
  ``page_size`` <= 100, 30-day ``start_time``..``end_time`` spans and T+1
  ``date_key`` snapshots (at most three days back), the crowd data's 7-day
  windows, and throttling in the envelope's own form (code configurable);
* Ark: see :mod:`omniplug_xiaohongshu.sim_ark`.

Media files (the notes' images) are served at ``/media/<note_id>.jpg``.
"""

from __future__ import annotations

import math
import secrets as pysecrets
import threading
from datetime import date, datetime, timedelta
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.testing import Clock, SimRequest, SimResponse, SimulatorBase, route
from omniplug.world import World, WorldConfig, build_world
from omniplug.world.media_server import MediaLibrary
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.client import REFRESH_PATH
from omniplug_xiaohongshu.sim_ark import ARK_APP_ID, ARK_APP_SECRET, ArkGateway
from omniplug_xiaohongshu.sim_world import SimData, day_start, render_world
from omniplug_xiaohongshu.streams.juguang import CREATIVE_PATH, REPORT_PATH
from omniplug_xiaohongshu.streams.pgy import NOTE_PATH

__all__ = [
    "ADVERTISER_ID",
    "APP_ID",
    "ARK_APP_ID",
    "ARK_APP_SECRET",
    "AUTH_CODE",
    "BRAND_USER_ID",
    "EVENTS_PATH",
    "SECRET",
    "XiaohongshuSimulator",
]

APP_ID = 4012
SECRET = "jg-secret-9c2e51b7a4"
ADVERTISER_ID = 5817300
BRAND_USER_ID = "5e8f1c2b3a4d5e6f7a8b9c0d"
AUTH_CODE = "jg-auth-code-demo"
EVENTS_PATH = "/api/open/jg/data/crowd/event/list"
ACCESS_LIFETIME = timedelta(seconds=86399)
REFRESH_LIFETIME = timedelta(seconds=2591999)
ARK_TOKEN_LIFETIME = timedelta(days=7)
REPORT_MAX_PAGE_SIZE = 1000
CREATIVE_MAX_PAGE_SIZE = 100
NOTE_MAX_PAGE_SIZE = 100
NOTE_MAX_SPAN = timedelta(days=30)
DATE_KEY_HISTORY_DAYS = 3
EVENT_MAX_PAGE_SIZE = 500
EVENT_MAX_WINDOW = timedelta(days=7)
STREAMS = ("ad_reports", "creatives", "kol_notes", "touchpoints", "shop_orders")


def _jg(data: Any) -> SimResponse:
    return SimResponse.json({"code": codes.JG_OK, "success": True, "msg": "成功", "data": data})


def _jg_error(code: int, msg: str) -> SimResponse:
    return SimResponse.json({"code": code, "success": False, "msg": msg, "data": None})


def _day(text: Any) -> date:
    return datetime.strptime(str(text), "%Y-%m-%d").date()


class XiaohongshuSimulator(ArkGateway, SimulatorBase):
    """Juguang + Pugongying + Ark of one brand, serving the world's Xiaohongshu slice.

    Args:
        seed: seed of the default world (``build_world(WorldConfig(seed=seed))``).
        port, host: where to listen (loopback, an ephemeral port by default).
        clock: simulated time; default frozen one day after the world's end,
            so the world's 30-day window is complete (T+1 data included).
        world: the world to serve (tests pass a small one).
        throttle_code: the Juguang code a throttled call answers with.
        token_expired_code: the Juguang code an expired/invalid token answers with.
    """

    def __init__(self, *, seed: int = 0, port: int = 0, host: str = "127.0.0.1", clock: Clock | None = None,
                 world: World | None = None, throttle_code: int = codes.JG_THROTTLED,
                 token_expired_code: int = codes.JG_TOKEN_INVALID) -> None:
        world = world or build_world(WorldConfig(seed=seed))
        clock = clock or Clock(frozen_at=world.config.end + timedelta(days=1))
        super().__init__(seed=world.config.seed, clock=clock, host=host, port=port)
        self.world = world
        self.data: SimData = render_world(world, advertiser_id=ADVERTISER_ID, brand_user_id=BRAND_USER_ID)
        self.media = MediaLibrary(world, codes.PLATFORM, sources=self.data.media)
        self.throttle_code = throttle_code
        self.token_expired_code = token_expired_code
        self._state = threading.Lock()
        now = self.clock.now()
        self.initial_access_token = f"jg-at-{world.config.seed}-initial"
        self.initial_refresh_token = f"jg-rt-{world.config.seed}-initial"
        self.initial_ark_token = f"ark-at-{world.config.seed}-initial"
        self.jg_tokens: dict[str, datetime] = {self.initial_access_token: now + ACCESS_LIFETIME}
        self.refresh_tokens: dict[str, tuple[datetime, str]] = {
            self.initial_refresh_token: (now + REFRESH_LIFETIME, self.initial_access_token)}
        self.ark_tokens: dict[str, datetime] = {self.initial_ark_token: now + ARK_TOKEN_LIFETIME}
        self.ark_signatures: list[str] = []
        self._throttles: dict[str, int] = {"juguang": 0, "ark": 0}
        self._expire_after: int | None = None
        self._malformed: set[str] = set()

    # -- what `omniplug simulate` and the demo use -------------------------------------

    def pipeline_section(self) -> dict[str, Any]:
        """The ``[platforms.xiaohongshu]`` table pointing at this simulator, with credentials it accepts."""
        url = self.base_url
        return {"base_url": url, "ads_base_url": url, "ark_base_url": url, "app_id": APP_ID, "secret": SECRET,
                "access_token": self.initial_access_token, "refresh_token": self.initial_refresh_token,
                "advertiser_id": ADVERTISER_ID, "user_id": BRAND_USER_ID, "ark_app_id": ARK_APP_ID,
                "ark_app_secret": ARK_APP_SECRET, "ark_access_token": self.initial_ark_token}

    def describe(self) -> list[str]:
        """Lines ``omniplug simulate`` prints: how to point a pipeline here."""
        lines = ["[platforms.xiaohongshu]"]
        lines += [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in self.pipeline_section().items()]
        lines.append(f"# Juguang auth_code for /api/open/oauth2/access_token: {AUTH_CODE!r}")
        return lines

    # -- test controls -------------------------------------------------------------------

    def throttle_next(self, calls: int = 1, *, api: str = "juguang") -> None:
        """Answer the next ``calls`` data calls of ``api`` (``"juguang"`` incl. Pugongying, or ``"ark"``) throttled."""
        with self._state:
            self._throttles[api] += calls

    def expire_tokens(self, *, after_calls: int = 0) -> None:
        """Expire every Juguang access token once ``after_calls`` more data calls have been served."""
        with self._state:
            self._expire_after = after_calls

    def inject_malformed(self, stream: str) -> bool:
        """Corrupt one record of ``stream`` in the next page served (the contract's bad-record test)."""
        if stream not in STREAMS:
            return False
        with self._state:
            self._malformed.add(stream)
        return True

    def _take_throttle(self, api: str) -> bool:
        with self._state:
            if self._throttles[api] > 0:
                self._throttles[api] -= 1
                return True
            return False

    def _take_malformed(self, stream: str) -> bool:
        with self._state:
            if stream in self._malformed:
                self._malformed.discard(stream)
                return True
            return False

    # -- OAuth -------------------------------------------------------------------------------

    @route("POST", "/api/open/oauth2/access_token")
    def access_token(self, req: SimRequest) -> SimResponse:
        """Exchange the demo ``auth_code`` for a token pair."""
        body = self._body(req)
        if body.get("app_id") != APP_ID or body.get("secret") != SECRET:
            return _jg_error(codes.JG_APP_AUTH_FAILED, "app_id或secret错误")
        if body.get("auth_code") != AUTH_CODE:
            return _jg_error(codes.JG_BAD_PARAMS, "auth_code无效或已过期")
        return self._issue_tokens()

    @route("POST", REFRESH_PATH)
    def refresh_token(self, req: SimRequest) -> SimResponse:
        """Rotate: a new pair; the used refresh token and its access token stop working."""
        body = self._body(req)
        if body.get("app_id") != APP_ID or body.get("secret") != SECRET:
            return _jg_error(codes.JG_APP_AUTH_FAILED, "app_id或secret错误")
        with self._state:
            entry = self.refresh_tokens.pop(str(body.get("refresh_token", "")), None)
            if entry is None or entry[0] <= self.clock.now():
                return _jg_error(codes.JG_REFRESH_INVALID, "refresh_token无效、已使用或已过期")
            self.jg_tokens.pop(entry[1], None)
        return self._issue_tokens()

    def _issue_tokens(self) -> SimResponse:
        access, refresh = f"jg-at-{pysecrets.token_hex(12)}", f"jg-rt-{pysecrets.token_hex(12)}"
        now = self.clock.now()
        with self._state:
            self.jg_tokens[access] = now + ACCESS_LIFETIME
            self.refresh_tokens[refresh] = (now + REFRESH_LIFETIME, access)
        return _jg({"access_token": access, "access_token_expires_in": int(ACCESS_LIFETIME.total_seconds()),
                    "refresh_token": refresh, "refresh_token_expires_in": int(REFRESH_LIFETIME.total_seconds()),
                    "user_id": BRAND_USER_ID, "app_id": APP_ID, "role_type": 1,
                    "approval_advertisers": [{"advertiser_id": ADVERTISER_ID, "advertiser_name": "Lumière 官方"}],
                    "scope": ["report_service", "ad_query", "pgy_data"]})

    # -- Juguang / Pugongying data ----------------------------------------------------------------

    def _authorise(self, req: SimRequest) -> SimResponse | None:
        """Token and throttle checks shared by every data call; ``None`` means go ahead."""
        token = req.headers.get("Access-Token", "")
        bearer = req.headers.get("Authorization", "")
        if not token and bearer.startswith("Bearer ") and req.path.startswith("/api/open/pgy/"):
            token = bearer[len("Bearer "):]
        with self._state:
            if self._expire_after is not None:
                if self._expire_after <= 0:
                    for known in self.jg_tokens:
                        self.jg_tokens[known] = self.clock.now() - timedelta(seconds=1)
                    self._expire_after = None
                else:
                    self._expire_after -= 1
            expires = self.jg_tokens.get(token)
        if expires is None or expires <= self.clock.now():
            return _jg_error(self.token_expired_code, "access_token无效或已过期")
        if self._take_throttle("juguang"):
            return _jg_error(self.throttle_code, "请求过于频繁，请稍后再试")
        return None

    def _body(self, req: SimRequest) -> dict[str, Any]:
        try:
            body = req.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _checked(self, req: SimRequest, *, advertiser: bool = True) -> tuple[dict[str, Any], SimResponse | None]:
        """The JSON body, and the refusal of the token/throttle (and advertiser) checks, if any."""
        body = self._body(req)
        refused = self._authorise(req)
        if refused is None and advertiser and body.get("advertiser_id") != ADVERTISER_ID:
            refused = _jg_error(codes.JG_NO_PERMISSION, "无该广告主的数据权限")
        return body, refused

    def _page(self, stream: str, rows: list[dict[str, Any]], number: int, size: int,
              corrupt: tuple[str, str], media: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Page ``number`` of ``rows``: copies, ``media`` paths made URLs, maybe one record corrupted."""
        page = [{**r, **{k: self.base_url + r[k] for k in media}} for r in rows[(number - 1) * size: number * size]]
        if page and self._take_malformed(stream):
            page[0][corrupt[0]] = corrupt[1]
        return page

    @route("POST", REPORT_PATH)
    def offline_report(self, req: SimRequest) -> SimResponse:
        """Creative-level offline report, one row per creative and day; T+1 (today is not there yet)."""
        body, refused = self._checked(req)
        if refused:
            return refused
        try:
            start, end = _day(body["start_date"]), _day(body["end_date"])
            page_num, page_size = int(body.get("page_num", 1)), int(body.get("page_size", 20))
        except (KeyError, TypeError, ValueError):
            return _jg_error(codes.JG_BAD_PARAMS, "start_date/end_date格式为yyyy-MM-dd，分页参数须为整数")
        if body.get("time_unit", "DAY") != "DAY":
            return _jg_error(codes.JG_BAD_PARAMS, "模拟器仅支持time_unit=DAY")
        if start > end or page_num < 1 or not 1 <= page_size <= REPORT_MAX_PAGE_SIZE:
            return _jg_error(codes.JG_BAD_PARAMS, f"日期范围或分页参数不合法(page_size最大{REPORT_MAX_PAGE_SIZE})")
        today = self.clock.now().astimezone(CHINA_TZ).date()
        rows = [r for r in self.data.report_rows if start <= _day(r["time"]) <= end and _day(r["time"]) < today]
        page = self._page("ad_reports", rows, page_num, page_size, ("time", "2026-13-45"))
        return _jg({"data_list": page, "total_count": len(rows)})

    @route("POST", CREATIVE_PATH)
    def creativity_search(self, req: SimRequest) -> SimResponse:
        """The advertiser's creatives, paged by ``page.page_index``/``page.page_size``."""
        body, refused = self._checked(req)
        if refused:
            return refused
        paging = body.get("page") or {}
        try:
            index, size = int(paging.get("page_index", 1)), int(paging.get("page_size", 20))
        except (TypeError, ValueError):
            return _jg_error(codes.JG_BAD_PARAMS, "page参数须为整数")
        if index < 1 or not 1 <= size <= CREATIVE_MAX_PAGE_SIZE:
            return _jg_error(codes.JG_BAD_PARAMS, f"page_size最大{CREATIVE_MAX_PAGE_SIZE}")
        rows = self.data.creatives if body.get("status") in (None, 2) else []
        page = self._page("creatives", rows, index, size, ("creativity_create_time", "not a time"), ("image",))
        return _jg({"page": {"page_index": index, "page_size": size, "total_count": len(rows)},
                    "creativity_dtos": page})

    @route("POST", EVENTS_PATH)
    def crowd_events(self, req: SimRequest) -> SimResponse:
        """Crowd behaviour events in ``[start_time, end_time)`` (China time, at most 7 days), cursor-paged."""
        body, refused = self._checked(req)
        if refused:
            return refused
        try:
            start = datetime.strptime(body["start_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
            end = datetime.strptime(body["end_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
            size, offset = int(body.get("page_size", 100)), int(body.get("cursor") or 0)
        except (KeyError, TypeError, ValueError):
            return _jg_error(codes.JG_BAD_PARAMS, "start_time/end_time格式为yyyy-MM-dd HH:mm:ss，cursor无效")
        if not timedelta(0) < end - start <= EVENT_MAX_WINDOW or not 1 <= size <= EVENT_MAX_PAGE_SIZE or offset < 0:
            return _jg_error(codes.JG_BAD_PARAMS, f"时间跨度须在7天以内，page_size最大{EVENT_MAX_PAGE_SIZE}")
        now = self.clock.now()
        rows = [e for t, e in self.data.events if start <= t < end and t < now]
        page = self._page("touchpoints", rows[offset:], 1, size, ("event_time", "yesterday"))
        nxt = offset + len(page)
        return _jg({"list": page, "cursor": str(nxt), "has_more": nxt < len(rows)})

    @route("POST", NOTE_PATH)
    def note_post_data(self, req: SimRequest) -> SimResponse:
        """Pugongying post-campaign note data: T+1 snapshots, 30-day spans, ``page_size`` <= 100."""
        body, refused = self._checked(req, advertiser=False)
        if refused:
            return refused
        if body.get("user_id") != BRAND_USER_ID:
            return _jg_error(codes.JG_NO_PERMISSION, "无该品牌账号的数据权限")
        try:
            start, end = _day(body["start_time"]), _day(body["end_time"])
            page_num, page_size = int(body.get("page_num", 1)), int(body.get("page_size", 20))
            date_type = int(body.get("date_type", 2))
        except (KeyError, TypeError, ValueError):
            return _jg_error(codes.JG_BAD_PARAMS, "start_time/end_time格式为yyyy-MM-dd，分页参数须为整数")
        if date_type not in (1, 2) or start > end or end - start > NOTE_MAX_SPAN:
            return _jg_error(codes.JG_BAD_PARAMS, "date_type为1或2，start_time和end_time的时间跨度不能超过30天")
        if page_num < 1 or not 1 <= page_size <= NOTE_MAX_PAGE_SIZE:
            return _jg_error(codes.JG_BAD_PARAMS, f"page_size最大支持{NOTE_MAX_PAGE_SIZE}")
        today = self.clock.now().astimezone(CHINA_TZ).date()
        snapshot = today - timedelta(days=1)  # T+1: yesterday's data is the newest
        if body.get("date_key"):
            try:
                snapshot = datetime.strptime(str(body["date_key"]), "%Y%m%d").date()
            except ValueError:
                return _jg_error(codes.JG_BAD_PARAMS, "date_key格式为yyyyMMdd")
            if not today - timedelta(days=DATE_KEY_HISTORY_DAYS) <= snapshot < today:
                return _jg_error(codes.JG_BAD_PARAMS, "date_key仅支持历史三天的数据，数据为T+1")
        rows = self.note_rows(snapshot, date_type=date_type, start=start, end=end)
        page = self._page("kol_notes", rows, page_num, page_size, ("note_publish_time", "someday"),
                          ("note_cover",))
        return _jg({"total": len(rows), "page_num": page_num, "page_size": page_size,
                    "total_page": math.ceil(len(rows) / page_size), "datas": page})

    def note_rows(self, snapshot: date, *, date_type: int = 2, start: date = date.min,
                  end: date = date.max) -> list[dict[str, Any]]:
        """Pugongying note records as of the T+1 ``snapshot`` day, filtered like ``note/post/data``.

        ``date_type`` 2 filters on the publish day, 1 on the cooperation
        order's creation (the simulator takes the note's creation time).
        Notes published after the snapshot are not in it yet.
        """
        through = day_start(snapshot + timedelta(days=1))
        rows = []
        for note in self.data.notes:
            when = note.published if date_type == 2 else note.created
            if note.published < through and start <= when.astimezone(CHINA_TZ).date() <= end:
                rows.append({**note.record, **note.snapshot(through, self.world.config.population_scale),
                             "date_key": snapshot.strftime("%Y%m%d")})
        return rows

    # -- media --------------------------------------------------------------------------------------

    def fallback(self, request: SimRequest) -> SimResponse | None:
        """``GET /media/<note_id>.jpg``: the note's image bytes (``.mp4`` for video notes)."""
        if request.method == "GET" and request.path.startswith("/media/"):
            found = self.media.find(request.path[len("/media/"):])
            if found is None:
                return SimResponse.json({"error": "media not found"}, status=404)
            return SimResponse.bytes(found.data, content_type=found.media_type)
        return None
