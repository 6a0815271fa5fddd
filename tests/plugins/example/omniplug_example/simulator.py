"""Example Mall, played locally: a seeded shop behind a TOP-like gateway.

What it checks, like the real kind of platform does: the app key, the md5
signature over every parameter, the timestamp within 10 minutes of its
clock, a session token that expires (code 27) and a refresh token that
rotates (the old one stops working), ``page_size`` at most 50, and a ban
(code 7, "This ban will last for N more seconds") when told to throttle.
"""

from __future__ import annotations

import random
import secrets as pysecrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.testing.simulator import Clock, SimRequest, SimResponse, SimulatorBase, route
from omniplug_example.client import sign

APP_KEY = "example-app"
APP_SECRET = "example-secret-0f9a"
SESSION_LIFETIME = timedelta(hours=1)
MAX_PAGE_SIZE = 50
EVENT_TYPES = ("impression", "click", "product_view", "add_to_cart")


@dataclass
class World:
    """The seeded shop: buyers, orders and events (the ground truth of tests)."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    phones: dict[str, str] = field(default_factory=dict)  # buyer uid -> raw phone


def build_world(seed: int, start: datetime, days: int = 30, n_orders: int = 137, n_events: int = 263) -> World:
    """A deterministic world of orders and events between ``start`` and ``start + days``."""
    rng = random.Random(seed)
    world = World()
    buyers = [f"uid{rng.randrange(10**9):09d}" for _ in range(40)]
    for uid in buyers:
        world.phones[uid] = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    span = days * 86400
    for i in range(n_orders):
        uid = rng.choice(buyers)
        created = start + timedelta(seconds=rng.randrange(span))
        items = [
            {"oid": 5_000_000_000_000_000_000 + i * 10 + k, "num_iid": f"sku{rng.randrange(30):03d}",
             "num": rng.randint(1, 3), "payment": f"{rng.randint(100, 99999) / 100:.2f}"}
            for k in range(rng.randint(1, 3))
        ]
        total = sum(round(float(it["payment"]) * 100) for it in items)
        world.orders.append({
            # Above 2**53 on purpose: a client parsing through float loses digits.
            "tid": 4_000_000_000_000_000_000 + i * 7919,
            "buyer_open_uid": uid,
            "receiver_mobile": world.phones[uid],
            "created": created.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "payment": f"{total / 100:.2f}",
            "status": rng.choice(["TRADE_FINISHED"] * 6 + ["TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"]),
            "orders": {"order": items},
        })
    world.orders.sort(key=lambda o: (o["created"], o["tid"]))
    for i in range(n_events):
        world.events.append({
            "event_id": f"ev{i:06d}",
            "uid": rng.choice(buyers),
            "ts": int((start + timedelta(seconds=rng.randrange(span))).timestamp() * 1000),
            "type": rng.choice(EVENT_TYPES),
            "campaign": f"cmp{rng.randrange(5)}",
        })
    return world


class ExampleSimulator(SimulatorBase):
    """The Example Mall gateway (``/router/rest``), token endpoint and events API."""

    def __init__(self, *, seed: int = 0, clock: Clock | None = None, port: int = 0, host: str = "127.0.0.1") -> None:
        clock = clock or Clock(frozen_at=datetime(2026, 11, 1, 4, 0, tzinfo=UTC))
        super().__init__(seed=seed, clock=clock, port=port, host=host)
        self.world_start = datetime(2026, 10, 1, tzinfo=CHINA_TZ)
        self.world = build_world(seed, self.world_start)
        self.initial_session = "session-initial"
        self.initial_refresh = "refresh-initial"
        self._sessions: dict[str, datetime] = {self.initial_session: self.clock.now() + SESSION_LIFETIME}
        self._refresh_tokens = {self.initial_refresh}
        self._bans: list[int] = []
        self._malformed: set[str] = set()

    def describe(self) -> list[str]:
        """Lines printed by ``omniplug simulate``: how to point a pipeline here."""
        return [f"app_key = {APP_KEY!r}", f"app_secret = {APP_SECRET!r}",
                f"session = {self.initial_session!r}", f"refresh_token = {self.initial_refresh!r}"]

    # -- test controls --------------------------------------------------------

    def ban_next(self, seconds: int, times: int = 1) -> None:
        """Answer the next ``times`` gateway calls with code 7 and a ban of ``seconds``."""
        self._bans.extend([seconds] * times)

    def expire_sessions(self) -> None:
        """Make every session token expired now (the next call gets code 27)."""
        for token in self._sessions:
            self._sessions[token] = self.clock.now() - timedelta(seconds=1)

    def inject_malformed(self, stream: str) -> bool:
        """Corrupt one record of ``stream`` as served (the contract suite's bad-record test)."""
        if stream not in ("orders", "events"):
            return False
        self._malformed.add(stream)
        return True

    # -- gateway --------------------------------------------------------------

    @route("GET", "/router/rest")
    def router(self, req: SimRequest) -> SimResponse:
        """TOP-style gateway: checks, then dispatch on ``method``."""
        p = req.params()
        if p.get("app_key") != APP_KEY:
            return _error(29, "Invalid App Key")
        if "sign" not in p:
            return _error(24, "Missing Signature")
        if p["sign"] != sign(p, APP_SECRET):
            return _error(25, "Invalid Signature")
        try:
            stamp = datetime.strptime(p.get("timestamp", ""), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
        except ValueError:
            return _error(31, "Invalid Timestamp")
        if abs((stamp - self.clock.now()).total_seconds()) > 600:
            return _error(31, "Invalid Timestamp", "isv.timestamp-out-of-range")
        expires = self._sessions.get(p.get("session", ""))
        if expires is None or expires <= self.clock.now():
            return _error(27, "Invalid Session", "invalid-sessionkey")
        if self._bans:
            seconds = self._bans.pop(0)
            return _error(7, "App Call Limited", "accesscontrol.limited-by-api-access-count",
                          f"This ban will last for {seconds} more seconds")
        if p.get("method") == "example.orders.get":
            return self._orders(p)
        return _error(22, "Invalid Method")

    def _orders(self, p: dict[str, str]) -> SimResponse:
        try:
            page_no = int(p.get("page_no", "1"))
            page_size = int(p.get("page_size", "40"))
            start = datetime.strptime(p["start_created"], "%Y-%m-%d %H:%M:%S")
            end = datetime.strptime(p["end_created"], "%Y-%m-%d %H:%M:%S")
        except (KeyError, ValueError):
            return _error(41, "Invalid Arguments", "isv.invalid-parameter:start_created/end_created/page")
        if page_size > MAX_PAGE_SIZE or page_size < 1 or page_no < 1:
            return _error(41, "Invalid Arguments", "isv.invalid-parameter:page_size")
        lo, hi = start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")
        matching = [o for o in self.world.orders if lo <= o["created"] < hi]
        page = [dict(o) for o in matching[(page_no - 1) * page_size: page_no * page_size]]
        if page and "orders" in self._malformed:
            self._malformed.discard("orders")
            page[0]["created"] = "2026-13-45 99:00:00"
        return SimResponse.json({"orders_get_response": {
            "total_results": len(matching),
            "has_next": page_no * page_size < len(matching),
            "orders": {"order": page},
            "request_id": pysecrets.token_hex(6),
        }})

    # -- token endpoint -------------------------------------------------------

    @route("POST", "/oauth/token")
    def token(self, req: SimRequest) -> SimResponse:
        """Refresh: a new session and a new refresh token; the old refresh token dies."""
        f = req.form()
        if f.get("client_id") != APP_KEY or f.get("client_secret") != APP_SECRET:
            return SimResponse.json({"error": "invalid_client"}, status=401)
        old = f.get("refresh_token", "")
        if f.get("grant_type") != "refresh_token" or old not in self._refresh_tokens:
            return SimResponse.json({"error": "invalid_grant", "error_description": "refresh token is invalid or used"},
                                    status=400)
        self._refresh_tokens.discard(old)
        session, refresh = f"session-{pysecrets.token_hex(8)}", f"refresh-{pysecrets.token_hex(8)}"
        self._sessions[session] = self.clock.now() + SESSION_LIFETIME
        self._refresh_tokens.add(refresh)
        return SimResponse.json({"access_token": session, "refresh_token": refresh,
                                 "expires_in": int(SESSION_LIFETIME.total_seconds()), "user_id": "shop-1"})

    # -- events API (cursor paging, token in a header) -------------------------

    @route("GET", "/api/events")
    def events(self, req: SimRequest) -> SimResponse:
        """Events after an opaque cursor, oldest first; ``count`` at most 100."""
        expires = self._sessions.get(req.headers.get("Access-Token", ""))
        if expires is None or expires <= self.clock.now():
            return SimResponse.json({"code": 40105, "message": "access token expired or invalid"})
        count = min(int(req.query.get("count", "20")), 100)
        after = int(req.query.get("cursor") or 0)
        page = [dict(e) for e in self.world.events[after: after + count]]
        if page and "events" in self._malformed:
            self._malformed.discard("events")
            page[0]["ts"] = "yesterday"
        nxt = after + len(page)
        return SimResponse.json({"code": 0, "message": "OK", "data": {
            "list": page, "cursor": str(nxt), "has_more": nxt < len(self.world.events)}})


def _error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> SimResponse:
    body: dict[str, Any] = {"code": code, "msg": msg, "request_id": pysecrets.token_hex(6)}
    if sub_code:
        body["sub_code"] = sub_code
    if sub_msg:
        body["sub_msg"] = sub_msg
    return SimResponse.json({"error_response": body})
