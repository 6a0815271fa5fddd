"""Douyin, played locally: Ocean Engine, Xingtu, the open platform and Doudian on one loopback port.

:class:`DouyinSimulator` serves the world's Douyin slice (``world.slice("douyin")``)
through the real paths of the three gateways, so a config pointing
``ads_base_url``, ``open_base_url`` and ``shop_base_url`` at it exercises the
same client code as production. The route handlers live in ``sim_ocean``,
``sim_xingtu``, ``sim_open`` and ``sim_doudian``; the world's rendering in
``sim_world`` and the media in ``sim_media``. This module adds the state
(tokens, scheduled faults) and the test controls.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from omniplug.testing.simulator import (
    Clock,
    Handler,
    SimRequest,
    SimResponse,
    SimulatorBase,
)
from omniplug.world import World, WorldConfig, build_world
from omniplug_douyin.sim_doudian import DOUDIAN_PATHS, DoudianRoutes
from omniplug_douyin.sim_media import MediaStore
from omniplug_douyin.sim_ocean import OceanRoutes
from omniplug_douyin.sim_open import OpenRoutes
from omniplug_douyin.sim_tokens import TokenBook
from omniplug_douyin.sim_world import render_view
from omniplug_douyin.sim_xingtu import XingtuRoutes

__all__ = [
    "ADVERTISER_ID",
    "APP_ID",
    "APP_SECRET",
    "BRAND_OPEN_ID",
    "CLIENT_KEY",
    "CLIENT_SECRET",
    "DEFAULT_TOUCH_PATH",
    "SHOP_APP_KEY",
    "SHOP_APP_SECRET",
    "STAR_ID",
    "DouyinSimulator",
]

APP_ID = "1783452910064135"
APP_SECRET = "oe-5f0c9a7d31b24e8f9c6a"
ADVERTISER_ID = "1779832165409837"
STAR_ID = "1780001234567890123"
CLIENT_KEY = "awq4t7n2k9x1c3v5"
CLIENT_SECRET = "dy-open-8e1f2a3b4c5d6e7f"
BRAND_OPEN_ID = "_000LumiereBrandAccount0000000000000"
SHOP_APP_KEY = "7152364879012345678"
SHOP_APP_SECRET = "dd-secret-0a1b2c3d4e5f6a7b"
DEFAULT_TOUCH_PATH = "/open_api/2/dmp/brand_touch/list/"

_DEFAULT_CODES = {"ocean": {"throttle": 40100, "transient": 50000}, "shop": {"throttle": 60000, "transient": 20000},
                  "open": {"throttle": 2190004, "transient": 2190016}}
_MESSAGES = {40100: "请求过于频繁，请稍后再试", 40110: "开发者请求过于频繁", 50000: "系统错误，请稍后重试",
             60000: "触发限流，请稍后重试", 20000: "服务打瞌睡了，请稍后再试", 2190004: "应用调用频率超限",
             2190016: "系统繁忙"}
#: How each stream's served record is corrupted by :meth:`DouyinSimulator.inject_malformed`.
_CORRUPTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "ad_reports": (("dimensions", "stat_time_day"), "2026-13-45"),
    "materials": (("create_time",), "2026-02-30 25:61:00"),
    "xingtu_orders": (("release_time",), "下周二"),
    "shop_orders": (("create_time",), "yesterday"),
    "touchpoints": (("event_time",), "2026-13-45 99:00:00"),
    "identities": (("follow_time",), "yesterday"),
}


class DouyinSimulator(OceanRoutes, XingtuRoutes, OpenRoutes, DoudianRoutes, SimulatorBase):
    """The Douyin gateways over real HTTP, serving one seeded world.

    Args:
        seed: world seed (ignored when ``world`` is given).
        port: port on ``host`` (0: ephemeral).
        host: interface to bind.
        clock: simulated time; default frozen one day after the world's window ends.
        world: the world to serve (default ``build_world(WorldConfig(seed=seed))``).
        expired_code: Ocean Engine code for an expired access token (40102 is unconfirmed).
        max_skew_seconds: Doudian's accepted timestamp skew.
        touch_path: path of the crowd touch-data API.
    """

    def __init__(self, *, seed: int = 0, port: int = 0, host: str = "127.0.0.1", clock: Clock | None = None,
                 world: World | None = None, expired_code: int = 40102, max_skew_seconds: float = 600,
                 touch_path: str = DEFAULT_TOUCH_PATH) -> None:
        world = world or build_world(WorldConfig(seed=seed))
        clock = clock or Clock(frozen_at=world.config.end + timedelta(days=1))
        super().__init__(seed=world.config.seed, clock=clock, host=host, port=port)
        self.world = world
        self.view = render_view(world)
        self.media = MediaStore(world, clock)
        self.app_id, self.app_secret, self.advertiser_id, self.star_id = APP_ID, APP_SECRET, ADVERTISER_ID, STAR_ID
        self.client_key, self.client_secret, self.open_id = CLIENT_KEY, CLIENT_SECRET, BRAND_OPEN_ID
        self.shop_app_key, self.shop_app_secret = SHOP_APP_KEY, SHOP_APP_SECRET
        self.expired_code = expired_code
        self.max_skew = timedelta(seconds=max_skew_seconds)
        self.touch_path = touch_path
        now = clock.now
        self.ocean_tokens = TokenBook("oe", now, access_ttl=timedelta(seconds=86400),
                                      refresh_ttl=timedelta(seconds=2592000), rotate=True)
        self.open_tokens = TokenBook("dy", now, access_ttl=timedelta(days=15), refresh_ttl=timedelta(days=30),
                                     rotate=False)
        self.shop_tokens = TokenBook("dd", now, access_ttl=timedelta(days=7), refresh_ttl=timedelta(days=14),
                                     rotate=True)
        self._auth_codes = {"oe-auth-code-once"}
        self._state_lock = threading.Lock()
        self._scheduled: dict[str, list[tuple[int, str]]] = {"ocean": [], "shop": [], "open": []}
        self._malformed: set[str] = set()

    # -- wiring ---------------------------------------------------------------------

    def routes(self) -> dict[tuple[str, str], Handler]:
        """The marked routes plus the configurable touch path and Doudian's method paths."""
        table = super().routes()
        table[("GET", self.touch_path)] = self.touch_list
        for path in DOUDIAN_PATHS:
            table[("POST", path)] = self.doudian_call
        return table

    def fallback(self, request: SimRequest) -> SimResponse | None:
        """Media files under ``/media/``."""
        return self.media.serve(request)

    def start(self) -> DouyinSimulator:
        """Start serving; media URLs point at this server."""
        super().start()
        self.media.base_url = self.base_url
        return self

    def media_url(self, material_id: str, media_type: str) -> str:
        """An expiring library URL of a material."""
        return self.media.url(material_id, media_type)

    def media_md5(self, material_id: str) -> tuple[str, int]:
        """MD5 signature and size of a material's bytes."""
        return self.media.md5(material_id)

    def star_video_url(self, item_id: str) -> str:
        """The URL of a Xingtu order's video."""
        return self.media.star_url(item_id)

    # -- test controls ----------------------------------------------------------------

    def throttle_next(self, times: int = 1, *, api: str = "ocean", code: int | None = None) -> None:
        """Answer the next ``times`` calls of ``api`` (``ocean``, ``shop``, ``open``) with frequency control.

        Ocean Engine answers 40100 (pass ``code=40110`` for the developer
        bucket), Doudian 60000.
        """
        self._schedule(api, code or _DEFAULT_CODES[api]["throttle"], times)

    def fail_next(self, times: int = 1, *, api: str = "ocean") -> None:
        """Answer the next ``times`` calls of ``api`` with a system error (Ocean 50000, Doudian 20000)."""
        self._schedule(api, _DEFAULT_CODES[api]["transient"], times)

    def _schedule(self, api: str, code: int, times: int) -> None:
        with self._state_lock:
            self._scheduled[api].extend([(code, _MESSAGES.get(code, "error"))] * times)

    def _take_fault(self, api: str) -> tuple[int, str] | None:
        with self._state_lock:
            return self._scheduled[api].pop(0) if self._scheduled[api] else None

    def expire_tokens(self, api: str | None = None) -> None:
        """Make the access tokens of ``api`` (default: all three gateways) expired now."""
        for book in self._books(api):
            book.expire_access()

    def expire_refresh_tokens(self, api: str | None = None) -> None:
        """Make the refresh tokens of ``api`` (default: all three) expired now."""
        for book in self._books(api):
            book.expire_refresh()

    def _books(self, api: str | None) -> list[TokenBook]:
        books = {"ocean": self.ocean_tokens, "open": self.open_tokens, "shop": self.shop_tokens}
        return list(books.values()) if api is None else [books[api]]

    def inject_malformed(self, stream: str) -> bool:
        """Corrupt one record of ``stream`` the next time it is served (its mapping then fails)."""
        if stream not in _CORRUPTIONS:
            return False
        with self._state_lock:
            self._malformed.add(stream)
        return True

    def _corrupt(self, stream: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._state_lock:
            if stream not in self._malformed:
                return records
            # A follower with an oaid yields two links; corrupt one yielding one, so counts stay simple.
            index = next((i for i, r in enumerate(records) if not r.get("oaid")), None)
            if index is None:
                return records
            self._malformed.discard(stream)
        path, bad = _CORRUPTIONS[stream]
        target = records[index]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        return records

    # -- for people and the demo -----------------------------------------------------------

    def pipeline_section(self) -> dict[str, Any]:
        """The ``[platforms.douyin]`` table pointing at this simulator, with credentials it accepts."""
        url = self.base_url
        return {
            "base_url": url, "ads_base_url": url, "open_base_url": url, "shop_base_url": url,
            "app_id": APP_ID, "secret": APP_SECRET, "access_token": self.ocean_tokens.initial_access,
            "refresh_token": self.ocean_tokens.initial_refresh, "advertiser_id": ADVERTISER_ID, "star_id": STAR_ID,
            "client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "open_id": BRAND_OPEN_ID,
            "open_access_token": self.open_tokens.initial_access,
            "open_refresh_token": self.open_tokens.initial_refresh,
            "shop_app_key": SHOP_APP_KEY, "shop_app_secret": SHOP_APP_SECRET,
            "shop_access_token": self.shop_tokens.initial_access,
            "shop_refresh_token": self.shop_tokens.initial_refresh,
            "touch_events_path": self.touch_path,
        }

    def describe(self) -> list[str]:
        """Lines ``omniplug simulate`` prints: the ``[platforms.douyin]`` table to paste."""
        lines = ["[platforms.douyin]"]
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in self.pipeline_section().items()]
        lines.append(f"# world seed {self.world.config.seed}, simulated time {self.clock.now().isoformat()}")
        lines.append(f"# Doudian refuses request timestamps more than {int(self.max_skew.total_seconds())} s "
                     "from the simulated time")
        return lines
