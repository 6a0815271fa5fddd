"""JD's JOS gateway and OAuth host, played locally over the shared synthetic world.

What it checks, as JOS does (platforms.md §7.2): ``method``, ``v``,
``timestamp`` and ``sign`` present; the md5 signature over every sent
parameter with the raw ``360buy_param_json`` text; the timestamp within
``max_skew_seconds`` (6 minutes by JD's error text) of its clock, in either
``yyyy-MM-dd HH:mm:ss`` or the ``...SSS+0800`` form; an access token that
expires (code 19) and a refresh token that rotates (the old one stops
working); order-search arguments (``optional_fields`` mandatory, window at
most one month, ``page_size`` at most ``max_page_size``). Errors come as
``error_response`` with a string ``code``, ``zh_desc`` and ``en_desc``.
"""

from __future__ import annotations

import json
import secrets as pysecrets
import threading
from datetime import datetime, timedelta
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.testing.simulator import (
    Clock,
    SimRequest,
    SimResponse,
    SimulatorBase,
    route,
)
from omniplug.world import World, WorldConfig, build_world
from omniplug.world.media_server import MediaLibrary
from omniplug_jd.client import GATEWAY_PATH, response_key, sign
from omniplug_jd.sim_api import METHODS, ArgumentError
from omniplug_jd.sim_render import render

__all__ = ["APP_KEY", "APP_SECRET", "JdSimulator"]

APP_KEY = "jd-sim-app"
APP_SECRET = "jd-sim-secret-7c1e"
#: Apps in JD's "online test" status get 24-hour tokens.
TOKEN_LIFETIME = timedelta(hours=24)
STREAMS = ("orders", "members", "ad_reports", "products", "touchpoints", "materials")
_VERSIONS = ("2.0", "1.0")


#: The OAuth host's answer to an unknown app or a wrong secret (its error body is unconfirmed).
_BAD_APP = SimResponse.json({"code": 401, "msg": "app_key或app_secret无效 / invalid app_key or app_secret"})


def _error(code: str, zh: str, en: str) -> SimResponse:
    return SimResponse.json({"error_response": {"code": code, "zh_desc": zh, "en_desc": en}})


def _parse_timestamp(text: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f%z"):
        try:
            stamp = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=CHINA_TZ)
    return None


class JdSimulator(SimulatorBase):
    """The JOS gateway (``/routerjson``), OAuth endpoints and creative media of the world's JD slice.

    Args:
        seed: seed of the default world (``build_world(WorldConfig(seed=seed))``).
        port: port to bind (0: ephemeral).
        host: interface to bind.
        clock: simulated time; default frozen one day after the world's window ends.
        world: the world to serve (shared with other simulators in the demo).
        max_page_size: order search ``page_size`` cap (JD's is 50 or 100: unconfirmed).
        max_skew_seconds: accepted timestamp skew.
    """

    def __init__(self, *, seed: int = 0, port: int = 0, host: str = "127.0.0.1", clock: Clock | None = None,
                 world: World | None = None, max_page_size: int = 50, max_skew_seconds: float = 360) -> None:
        world = world or build_world(WorldConfig(seed=seed))
        clock = clock or Clock(frozen_at=world.config.end + timedelta(days=1))
        super().__init__(seed=seed, clock=clock, port=port, host=host)
        self.world = world
        self.max_page_size = max_page_size
        self.max_skew_seconds = max_skew_seconds
        self._media = MediaLibrary(world, "jd")
        self.rendered = render(world, lambda material_id: f"{self.base_url}/media/{self._media.file_name(material_id)}")
        self.initial_access_token = f"jd-at-{pysecrets.token_hex(8)}"
        self.initial_refresh_token = f"jd-rt-{pysecrets.token_hex(8)}"
        self.auth_code = f"jd-code-{pysecrets.token_hex(4)}"
        self._state = threading.Lock()
        self._tokens: dict[str, datetime] = {self.initial_access_token: self.clock.now() + TOKEN_LIFETIME}
        self._refresh_tokens = {self.initial_refresh_token}
        self._throttles: list[float | None] = []
        self._search_failures = 0
        self._malformed: set[str] = set()

    # -- what the demo and `omniplug simulate` use ----------------------------------

    def pipeline_section(self) -> dict[str, Any]:
        """The ``[platforms.jd]`` table pointing at this simulator, with credentials it accepts."""
        return {"base_url": self.base_url, "oauth_base_url": self.base_url, "app_key": APP_KEY,
                "app_secret": APP_SECRET, "access_token": self.initial_access_token,
                "refresh_token": self.initial_refresh_token, "page_size_cap": self.max_page_size}

    def describe(self) -> list[str]:
        """Lines printed by ``omniplug simulate``: how to point a pipeline here."""
        return ["[platforms.jd]", *(f"{k} = {json.dumps(v)}" for k, v in self.pipeline_section().items()),
                f"authorisation code for /oauth2/access_token: {self.auth_code}"]

    # -- test controls ---------------------------------------------------------------

    def throttle_next(self, times: int = 1, *, wait_seconds: float | None = None) -> None:
        """Answer the next ``times`` gateway calls with code 2 (App Call Limited).

        Without ``wait_seconds`` it is the daily quota ("retry the next day");
        with it, a per-second limit whose text names the wait.
        """
        with self._state:
            self._throttles.extend([wait_seconds] * times)

    def fail_next_search(self, times: int = 1) -> None:
        """Answer the next ``times`` order searches with ``apiResult.success=false`` (系统繁忙)."""
        with self._state:
            self._search_failures += times

    def expire_tokens(self) -> None:
        """Make every access token expired now (the next call gets code 19)."""
        with self._state:
            for token in self._tokens:
                self._tokens[token] = self.clock.now() - timedelta(seconds=1)

    def inject_malformed(self, stream: str) -> bool:
        """Corrupt the first record of the next page served of ``stream``."""
        if stream not in STREAMS:
            return False
        with self._state:
            self._malformed.add(stream)
        return True

    def take_malformed(self, stream: str) -> bool:
        """True once after :meth:`inject_malformed` for ``stream`` (used by the handlers)."""
        with self._state:
            if stream in self._malformed:
                self._malformed.discard(stream)
                return True
        return False

    def take_search_failure(self) -> bool:
        """True while injected order-search failures remain (used by the handlers)."""
        with self._state:
            if self._search_failures:
                self._search_failures -= 1
                return True
        return False

    # -- the gateway ---------------------------------------------------------------------

    @route("*", GATEWAY_PATH)
    def gateway(self, req: SimRequest) -> SimResponse:
        """``/routerjson``: the checks JOS makes, then dispatch on ``method``."""
        p = req.params()
        for name, code, what in (("method", "14", "method"), ("v", "4", "version"),
                                 ("timestamp", "7", "timestamp"), ("sign", "11", "sign")):
            if not p.get(name):
                return _error(code, f"缺少{what}参数", f"Missing {what}")
        if p["v"] not in _VERSIONS:
            return _error("5", "不支持的版本号", "Unsupported version")
        if p.get("app_key") != APP_KEY or p["sign"] != sign(p, APP_SECRET):
            return _error("12", "签名无效", "Invalid signature")
        stamp = _parse_timestamp(p["timestamp"])
        if stamp is None or abs((stamp - self.clock.now()).total_seconds()) > self.max_skew_seconds:
            return _error("8", "时间戳无效或误差超过6分钟", "Invalid timestamp")
        with self._state:
            expires = self._tokens.get(p.get("access_token", ""))
            valid = expires is not None and expires > self.clock.now()
            throttled = valid and bool(self._throttles)
            throttle = self._throttles.pop(0) if throttled else None
        if not valid:
            return _error("19", "access_token无效或已过期", "Invalid access_token")
        if throttled:
            if throttle is None:
                return _error("2", "调用次数超限,请明日再试或申请更多调用量",
                              "App Call Limited: daily call quota exceeded, retry tomorrow")
            return _error("2", f"调用频率超限,请{throttle:g}秒后重试",
                          f"App Call Limited: too many calls per second, retry after {throttle:g} seconds")
        handler = METHODS.get(p["method"])
        if handler is None:
            return _error("15", "无效的方法名", "Invalid method")
        key = response_key(p["method"])
        try:
            args = json.loads(p.get("360buy_param_json") or "{}")
            if not isinstance(args, dict):
                raise ArgumentError("参数错误: 360buy_param_json 必须是JSON对象 / "
                                    "param error: 360buy_param_json is not a JSON object")
            return SimResponse.json({key: handler(self, args)})
        except (ArgumentError, json.JSONDecodeError) as exc:
            zh, _, en = str(exc).partition(" / ")
            return SimResponse.json({key: {"code": "100", "zh_desc": zh, "en_desc": en or zh}})

    # -- OAuth (open-oauth.jd.com) ------------------------------------------------------------

    @route("*", "/oauth2/refresh_token")
    def refresh_token(self, req: SimRequest) -> SimResponse:
        """Trade a refresh token for a new pair; the old refresh token stops working."""
        p = req.params()
        if p.get("app_key") != APP_KEY or p.get("app_secret") != APP_SECRET:
            return _BAD_APP
        with self._state:
            old = p.get("refresh_token", "")
            if p.get("grant_type") != "refresh_token" or old not in self._refresh_tokens:
                return SimResponse.json({"code": 402, "msg": "refresh_token无效或已使用 / invalid refresh_token"})
            self._refresh_tokens.discard(old)
        return self._issue()

    @route("*", "/oauth2/access_token")
    def access_token(self, req: SimRequest) -> SimResponse:
        """Exchange the authorisation code (see :meth:`describe`) for a token pair."""
        p = req.params()
        if p.get("app_key") != APP_KEY or p.get("app_secret") != APP_SECRET:
            return _BAD_APP
        if p.get("grant_type") != "authorization_code" or p.get("code") != self.auth_code:
            return SimResponse.json({"code": 403, "msg": "code无效 / invalid authorization code"})
        return self._issue()

    def _issue(self) -> SimResponse:
        access, refresh = f"jd-at-{pysecrets.token_hex(8)}", f"jd-rt-{pysecrets.token_hex(8)}"
        now = self.clock.now()
        with self._state:
            self._tokens[access] = now + TOKEN_LIFETIME
            self._refresh_tokens.add(refresh)
        return SimResponse.json({
            "access_token": access, "refresh_token": refresh, "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "scope": "snsapi_base", "token_type": "bearer", "open_id": "sim-open-id", "uid": "1000001",
            "time": int(now.timestamp() * 1000),
        })

    # -- creative media --------------------------------------------------------------------------

    def fallback(self, request: SimRequest) -> SimResponse | None:
        """``GET /media/<creativeId>.<ext>``: the creative's bytes, as JD's image CDN serves them."""
        if request.method != "GET" or not request.path.startswith("/media/"):
            return None
        found = self._media.find(request.path.removeprefix("/media/"))
        if found is None:
            return SimResponse.text("404 Not Found", status=404)
        return SimResponse.bytes(found.data, content_type=found.media_type)
