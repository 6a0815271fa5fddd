"""Tmall, played locally: a TOP gateway, its OAuth token endpoint and creative media, serving the world.

What it checks, as TOP does (platforms.md §7.1): the app key; the timestamp
(China time, within 10 minutes of its clock); the signature with ``md5``,
``hmac`` or ``hmac-sha256`` (code 25 on mismatch); the session (26 missing,
27 unknown or expired); per-method rules (``fields`` mandatory, page sizes,
increment windows of at most one day, the 3-month horizon, the default
trade-type subset when ``type`` is left out); and throttling in TOP's form
(code 7, "This ban will last for N more seconds", rejected until it ends).
Refreshing the session rotates the refresh token: the old one stops working.
"""

from __future__ import annotations

import secrets as pysecrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from omniplug.fields import CHINA_TZ
from omniplug.testing import Clock, SimRequest, SimResponse, SimulatorBase, route
from omniplug.world import World, WorldConfig, build_world
from omniplug.world.media_server import MediaLibrary
from omniplug_tmall.client import PLATFORM, TIME_FORMAT, response_key
from omniplug_tmall.signing import SIGN_METHODS, sign
from omniplug_tmall.sim_export import write_export
from omniplug_tmall.sim_methods import TopFault, TopMethods
from omniplug_tmall.sim_render import SHOP_NICK, render_shop

__all__ = ["APP_KEY", "APP_SECRET", "TmallSimulator"]

APP_KEY = "12345678"
APP_SECRET = "sim-tmall-secret-7d1f"
SESSION_LIFETIME = timedelta(days=1)
REFRESH_LIFETIME = timedelta(days=30)
SKEW = timedelta(minutes=10)
#: The shop's brand, printed on Tmall's edits of the creatives.
MEDIA_BRAND = "Lumière"
#: Which record of each stream :meth:`TmallSimulator.inject_malformed` breaks, and how.
_CORRUPT: dict[str, tuple[str, Any]] = {
    "orders": ("created", "2026-13-45 99:00:00"), "members": ("join_time", "not a time"),
    "ad_reports": ("charge", "12.345"), "touchpoints": ("action_time", "yesterday"),
    "products": ("price", "abc"), "materials": ("create_time", "2026-02-30 10:00:00"),
}


class TmallSimulator(SimulatorBase, TopMethods):
    """The TOP gateway (``/router/rest``), ``/authorize`` + ``/token``, and ``/media/<id>`` files.

    Args:
        seed: seed of the default world.
        port: port to bind (0: any free port).
        host: interface to bind.
        clock: simulated time (default: frozen one day after the world's window ends).
        world: the world to serve (default: ``build_world(WorldConfig(seed=seed))``).
        qps: calls per second allowed per (app, method); above it TOP's code 7 ban.
    """

    def __init__(self, *, seed: int = 0, port: int = 0, host: str = "127.0.0.1", clock: Clock | None = None,
                 world: World | None = None, qps: float | None = None) -> None:
        world = world or build_world(WorldConfig(seed=seed))
        clock = clock or Clock(frozen_at=world.config.end + timedelta(days=1))
        super().__init__(seed=seed, clock=clock, host=host, port=port)
        self.world = world
        self.data = render_shop(world)
        self.media = MediaLibrary(world, PLATFORM, brand=MEDIA_BRAND)
        self.qps = qps
        self.initial_session = "6100e2" + pysecrets.token_hex(14)
        self.initial_refresh = "6102a9" + pysecrets.token_hex(14)
        self._state = threading.RLock()
        self._sessions: dict[str, datetime] = {self.initial_session: clock.now() + SESSION_LIFETIME}
        self._refresh: dict[str, datetime] = {self.initial_refresh: clock.now() + REFRESH_LIFETIME}
        self._codes: dict[str, str] = {}
        self._bans: list[int] = []
        self._ban_until: datetime | None = None
        self._failures: list[TopFault] = []
        self._malformed: set[str] = set()
        self._after: list[tuple[int, Callable[[], None]]] = []
        self._calls = 0
        self._window: dict[tuple[str, str], tuple[int, int]] = {}
        self._methods = self.method_table()

    # -- what `omniplug simulate` and the demo use ------------------------------------

    def pipeline_section(self) -> dict[str, Any]:
        """The ``[platforms.tmall]`` table pointing at this simulator, with credentials it accepts."""
        return {"base_url": f"{self.base_url}/router/rest", "oauth_url": f"{self.base_url}/token",
                "app_key": APP_KEY, "app_secret": APP_SECRET, "session": self.initial_session,
                "refresh_token": self.initial_refresh}

    def describe(self) -> list[str]:
        """Lines printed by ``omniplug simulate``: how to point a pipeline here."""
        section = self.pipeline_section()
        lines = ["[platforms.tmall]"] + [f"{k} = {v!r}" for k, v in section.items()]
        s = self.world.slice("tmall")
        served = (f"# serves {s['orders'].num_rows} trades, {len(self.data.members)} members, "
                  f"{len(self.data.reports)} report rows, {len(self.data.touches)} touches, "
                  f"{len(self.data.items)} items, {len(self.data.materials)} materials; "
                  f"clock {self.clock.now().isoformat()}")
        return [*lines, served]

    def write_export(self, stream: str, path: str | Path) -> Path:
        """Write the back-office export of ``stream`` (CSV or XLSX by suffix), as the brand downloads it."""
        with self._state:
            return write_export(self.data, stream, Path(path))

    # -- test controls ----------------------------------------------------------------

    def throttle_next(self, times: int = 1, seconds: int = 2) -> None:
        """Ban the next ``times`` gateway calls with code 7 for ``seconds`` each (kept for that long)."""
        with self._state:
            self._bans.extend([seconds] * times)

    def fail_next(self, times: int = 1, *, code: int = 15, msg: str = "Remote service error",
                  sub_code: str = "isp.remote-service-timeout", sub_msg: str = "远程服务调用超时") -> None:
        """Answer the next ``times`` gateway calls with this error (default: a retryable ``isp.*`` one)."""
        with self._state:
            self._failures.extend([TopFault(code, msg, sub_code, sub_msg)] * times)

    def expire_tokens(self) -> None:
        """Expire every session now: the next call gets code 27."""
        with self._state:
            for token in self._sessions:
                self._sessions[token] = self.clock.now() - timedelta(seconds=1)

    def inject_malformed(self, stream: str) -> bool:
        """Corrupt one record of ``stream`` in the next page that serves it (normalise must reject it)."""
        if stream not in _CORRUPT:
            return False
        with self._state:
            self._malformed.add(stream)
        return True

    def modify_trade(self, tid: int, status: str | None = None) -> None:
        """The shop changes a trade now: its ``modified`` becomes the clock's time (and its status)."""
        with self._state:
            trade = self.data.trades[tid]
            trade["modified"] = self.clock.now().astimezone(CHINA_TZ).strftime(TIME_FORMAT)
            if status is not None:
                trade["status"] = status
                for line in trade["orders"]["order"]:
                    line["status"] = status

    def after_calls(self, calls: int, action: Callable[[], None]) -> None:
        """Run ``action`` right after the next ``calls``-th gateway call is answered (changes mid-paging)."""
        with self._state:
            self._after.append((self._calls + calls, action))

    def taint(self, stream: str, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``page`` with one record broken if :meth:`inject_malformed` asked for it (members: one without omid)."""
        with self._state:
            if stream not in self._malformed or not page:
                return page
            candidates = [i for i, r in enumerate(page) if stream != "members" or "omid" not in r]
            if not candidates:
                return page
            self._malformed.discard(stream)
        key, bad = _CORRUPT[stream]
        page[candidates[0]] = {**page[candidates[0]], key: bad}
        return page

    def material_record(self, material: dict[str, Any]) -> dict[str, Any]:
        """A material with its media URL on this simulator."""
        kind = "video_url" if material["material_type"] == 2 else "img_url"
        return {**material, kind: f"{self.base_url}/media/{self.media.file_name(material['material_id'])}"}

    # -- the gateway ------------------------------------------------------------------

    @route("*", "/router/rest")
    def router(self, req: SimRequest) -> SimResponse:
        """TOP's checks in TOP's order, then the method; errors as ``error_response``."""
        p = req.params()
        try:
            method = self._check(p)
            handler, _ = self._methods[method]
            body = {**handler(p), "request_id": pysecrets.token_hex(6)}
            answer = SimResponse.json({response_key(method): body})
        except TopFault as fault:
            answer = _error(fault)
        self._count_call()
        return answer

    def _check(self, p: dict[str, str]) -> str:
        if not p.get("method"):
            raise TopFault(21, "Missing Method")
        if p["method"] not in self._methods:
            raise TopFault(22, "Invalid Method", "isv.method-not-exist", f"unknown method {p['method']}")
        if not p.get("app_key"):
            raise TopFault(28, "Missing App Key")
        if p["app_key"] != APP_KEY:
            raise TopFault(29, "Invalid App Key")
        self._check_timestamp(p.get("timestamp"))
        if not p.get("sign"):
            raise TopFault(24, "Missing Signature")
        method = p.get("sign_method", "md5")
        if method not in SIGN_METHODS or p["sign"].upper() != sign(p, APP_SECRET, method):
            raise TopFault(25, "Invalid Signature", "isv.invalid-signature", f"sign_method={method}")
        if p.get("v") != "2.0":
            raise TopFault(34, "Invalid Version")
        if p.get("format", "xml") != "json":
            raise TopFault(41, "Invalid Arguments", "isv.invalid-parameter:format", "this gateway answers json only")
        if self._methods[p["method"]][1]:
            self._check_session(p.get("session"))
        self._check_limits(p["method"])
        return p["method"]

    def _check_timestamp(self, stamp: str | None) -> None:
        if not stamp:
            raise TopFault(30, "Missing Timestamp")
        try:
            when = datetime.strptime(stamp, TIME_FORMAT).replace(tzinfo=CHINA_TZ)
        except ValueError:
            raise TopFault(31, "Invalid Timestamp", "isv.invalid-timestamp", "yyyy-MM-dd HH:mm:ss") from None
        if abs(when - self.clock.now()) > SKEW:
            raise TopFault(31, "Invalid Timestamp", "isv.timestamp-out-of-range",
                           "the timestamp must be within 10 minutes of the server time (GMT+8)")

    def _check_session(self, session: str | None) -> None:
        if not session:
            raise TopFault(26, "Missing Session")
        with self._state:
            expires = self._sessions.get(session)
        if expires is None or expires <= self.clock.now():
            raise TopFault(27, "Invalid Session", "sessionkey-not-generated-by-server" if expires is None
                           else "session-expired", "the session is invalid or has expired")

    def _check_limits(self, method: str) -> None:
        now = self.clock.now()
        with self._state:
            if self._bans:
                seconds = self._bans.pop(0)
                self._ban_until = now + timedelta(seconds=seconds)
            elif self.qps is not None:
                second = int(now.timestamp())
                start, count = self._window.get((APP_KEY, method), (second, 0))
                count = count + 1 if start == second else 1
                self._window[(APP_KEY, method)] = (second, count)
                if count > self.qps:
                    self._ban_until = now + timedelta(seconds=1)
            if self._ban_until is not None and self._ban_until > now:
                left = max(1, int((self._ban_until - now).total_seconds() + 0.999))
                raise TopFault(7, "App Call Limited", "accesscontrol.limited-by-api-access-count",
                               f"This ban will last for {left} more seconds")
            if self._failures:
                raise self._failures.pop(0)

    def _count_call(self) -> None:
        with self._state:
            self._calls += 1
            due = [action for at, action in self._after if at <= self._calls]
            self._after = [(at, action) for at, action in self._after if at > self._calls]
        for action in due:
            action()

    # -- OAuth --------------------------------------------------------------------------

    @route("GET", "/authorize")
    def authorize(self, req: SimRequest) -> SimResponse:
        """The consent page, already consented: redirects to ``redirect_uri`` with a code."""
        q = req.query
        if q.get("client_id") != APP_KEY or q.get("response_type") != "code" or not q.get("redirect_uri"):
            return SimResponse.json({"error": "invalid_request", "error_description": "client_id, "
                                     "response_type=code and redirect_uri are required"}, status=400)
        code = pysecrets.token_hex(8)
        with self._state:
            self._codes[code] = q["redirect_uri"]
        target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        return SimResponse(302, {"Location": target}, b"")

    @route("POST", "/token")
    def token(self, req: SimRequest) -> SimResponse:
        """``authorization_code`` and ``refresh_token`` grants; a refresh rotates the refresh token."""
        f = req.form()
        if f.get("client_id") != APP_KEY or f.get("client_secret") != APP_SECRET:
            return SimResponse.json({"error": "invalid_client", "error_description": "bad client_id or secret"}, 401)
        now = self.clock.now()
        with self._state:
            grant = f.get("grant_type")
            if grant == "authorization_code":
                valid = self._codes.pop(f.get("code", ""), "") != ""  # a code is used once
            elif grant == "refresh_token":
                # Rotation: a refresh token works once; the old one dies here.
                valid = self._refresh.pop(f.get("refresh_token", ""), now) > now
            else:
                valid = False
            if not valid:
                return SimResponse.json({"error": "invalid_grant",
                                         "error_description": "the code or refresh token is invalid or used"}, 400)
            session, refresh = "6100" + pysecrets.token_hex(16), "6102" + pysecrets.token_hex(16)
            self._sessions[session] = now + SESSION_LIFETIME
            self._refresh[refresh] = now + REFRESH_LIFETIME
        return SimResponse.json({
            "access_token": session, "token_type": "Bearer", "expires_in": int(SESSION_LIFETIME.total_seconds()),
            "refresh_token": refresh, "re_expires_in": int(REFRESH_LIFETIME.total_seconds()),
            "r1_expires_in": int(SESSION_LIFETIME.total_seconds()), "w1_expires_in": 1800,
            "taobao_user_id": "2200000000001", "taobao_user_nick": SHOP_NICK,
        })

    # -- media ------------------------------------------------------------------------------

    def fallback(self, request: SimRequest) -> SimResponse | None:
        """``GET /media/<material_id>.<ext>``: the creative's bytes (rendered once, then cached)."""
        if request.method in ("GET", "HEAD") and request.path.startswith("/media/"):
            found = self.media.find(request.path.removeprefix("/media/"))
            if found is None:
                return SimResponse.json({"error": f"no media at {request.path}"}, 404)
            return SimResponse.bytes(found.data, found.media_type)
        return None


def _error(fault: TopFault) -> SimResponse:
    body: dict[str, Any] = {"code": fault.code, "msg": fault.msg, "request_id": pysecrets.token_hex(6)}
    if fault.sub_code:
        body["sub_code"] = fault.sub_code
    if fault.sub_msg:
        body["sub_msg"] = fault.sub_msg
    return SimResponse.json({"error_response": body})
