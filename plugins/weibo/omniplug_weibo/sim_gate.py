"""What the Weibo simulator checks before serving: the token, its expiry, the hourly limits.

Weibo counts calls per clock hour, per user (the token's uid), per IP and
per API, and answers a call over a limit with 10023 / 10022 / 10024 until
the hour turns. :class:`Gate` keeps those counters on the simulator's clock
and also holds the issued tokens (expiring through ``expires_in``; web apps
get no refresh token) and the test controls that force throttling.
"""

from __future__ import annotations

import secrets as pysecrets
import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from omniplug.testing.simulator import Clock, SimRequest, SimResponse
from omniplug_weibo.sim_world import china_wall

__all__ = ["RATE_MESSAGES", "Gate", "Grant", "ads_error", "client_ip", "open_api_error", "token_of"]

#: The texts Weibo answers its rate-limit codes with.
RATE_MESSAGES = {
    10022: "IP requests out of rate limit!",
    10023: "User requests out of rate limit!",
    10024: "User requests for ({api}) out of rate limit!",
}
#: Tokens issued by the simulator live this long (a reviewed app's level; unreviewed apps get less).
TOKEN_LIFETIME = timedelta(days=30)


def open_api_error(request: str, code: int, message: str, status: int = 400) -> SimResponse:
    """Weibo's open-API error: ``{request, error_code, error}`` with HTTP 400/403."""
    return SimResponse.json({"request": request, "error_code": code, "error": message}, status=status)


def ads_error(code: int, message: str, status: int = 400) -> SimResponse:
    """The ads host's error: ``{code, message, data: null}``."""
    return SimResponse.json({"code": code, "message": message, "data": None}, status=status)


@dataclass
class Grant:
    """One issued access token: whose it is and until when."""

    uid: int
    app_key: str
    created_at: datetime
    expires_at: datetime


class Gate:
    """Token and hourly-limit checks of the simulated Weibo, on the simulator's clock.

    Args:
        clock: the simulator's clock.
        user_limit: calls per hour per user (Weibo's test-level apps get 150;
            the simulator defaults higher so whole test runs fit in one hour).
        ip_limit: calls per hour per IP.
        api_limit: calls per hour per user and API.
    """

    def __init__(self, clock: Clock, *, user_limit: int, ip_limit: int, api_limit: int) -> None:
        self.clock = clock
        self.user_limit = user_limit
        self.ip_limit = ip_limit
        self.api_limit = api_limit
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}
        self._counts: Counter[tuple[Any, ...]] = Counter()
        self._forced: deque[int] = deque()
        self._expire_after: int | None = None

    # -- tokens -------------------------------------------------------------------

    def issue(self, uid: int, app_key: str, token: str | None = None) -> tuple[str, Grant]:
        """A new access token for ``uid`` (Weibo's tokens start ``2.00``)."""
        now = self.clock.now()
        token = token or f"2.00{pysecrets.token_hex(14)}"
        grant = Grant(uid, app_key, now, now + TOKEN_LIFETIME)
        with self._lock:
            self._grants[token] = grant
        return token, grant

    def grant(self, token: str) -> Grant | None:
        """The grant of ``token``, expired or not; ``None`` if it was never issued."""
        with self._lock:
            return self._grants.get(token)

    def expire_all(self, after_calls: int = 0) -> None:
        """Every issued token expires now, or once ``after_calls`` more calls have been admitted."""
        with self._lock:
            if after_calls > 0:
                self._expire_after = after_calls
                return
            self._expire_after = None
            for grant in self._grants.values():
                grant.expires_at = self.clock.now() - timedelta(seconds=1)

    def _count_down(self) -> None:
        """One call admitted: expire the tokens if a countdown just ran out (lock held)."""
        if self._expire_after is not None:
            self._expire_after -= 1
            if self._expire_after <= 0:
                self._expire_after = None
                for grant in self._grants.values():
                    grant.expires_at = self.clock.now() - timedelta(seconds=1)

    # -- limits -------------------------------------------------------------------

    def throttle_next(self, times: int, code: int) -> None:
        """Answer the next ``times`` gated calls with rate-limit ``code`` (10022, 10023 or 10024)."""
        if code not in RATE_MESSAGES:
            raise ValueError(f"rate-limit code must be one of {sorted(RATE_MESSAGES)}, not {code}")
        with self._lock:
            self._forced.extend([code] * times)

    def _hour(self) -> datetime:
        return self.clock.now().replace(minute=0, second=0, microsecond=0)

    def admit(self, uid: int, ip: str, api: str) -> int | None:
        """Count one call; the rate-limit code that refuses it, or ``None`` (refused calls are not counted)."""
        hour = self._hour()
        with self._lock:
            if self._forced:
                return self._forced.popleft()
            if self._counts[(hour, "ip", ip)] >= self.ip_limit:
                return 10022
            if self._counts[(hour, "user", uid)] >= self.user_limit:
                return 10023
            if self._counts[(hour, "api", uid, api)] >= self.api_limit:
                return 10024
            for key in ((hour, "ip", ip), (hour, "user", uid), (hour, "api", uid, api)):
                self._counts[key] += 1
            self._count_down()
        return None

    def status(self, uid: int, ip: str) -> dict[str, Any]:
        """The body of ``account/rate_limit_status.json`` for ``uid`` calling from ``ip``."""
        hour = self._hour()
        reset = hour + timedelta(hours=1)
        with self._lock:
            apis = sorted({key[3] for key in self._counts if key[0] == hour and key[1] == "api" and key[2] == uid})
            return {
                "ip_limit": self.ip_limit, "limit_time_unit": "HOURS",
                "remaining_ip_hits": max(0, self.ip_limit - self._counts[(hour, "ip", ip)]),
                "remaining_user_hits": max(0, self.user_limit - self._counts[(hour, "user", uid)]),
                "reset_time": china_wall(reset),
                "reset_time_in_seconds": int((reset - self.clock.now()).total_seconds()),
                "user_limit": self.user_limit,
                "api_rate_limits": [
                    {"api": api, "limit": self.api_limit, "limit_time_unit": "HOURS",
                     "remaining_hits": max(0, self.api_limit - self._counts[(hour, "api", uid, api)])}
                    for api in apis
                ],
            }


def token_of(req: SimRequest, *, ads: bool) -> str | None:
    """The access token a request carries, where each host takes it.

    The open API takes the ``access_token`` parameter or ``Authorization:
    OAuth2 <token>``; the ads host takes ``Authorization: Bearer <token>``.
    """
    header = req.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if ads:
        return (value.strip() or None) if scheme == "Bearer" else None
    if scheme == "OAuth2" and value.strip():
        return value.strip()
    return req.params().get("access_token") or None


def client_ip(req: SimRequest) -> str:
    """The caller's address as the edge reports it (loopback when there is no proxy header)."""
    return req.headers.get("x-forwarded-for", "127.0.0.1").split(",")[0].strip()
