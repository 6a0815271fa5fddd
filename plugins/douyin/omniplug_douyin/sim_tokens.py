"""Token bookkeeping of the simulated gateways: issue, check, refresh, rotate, expire.

Each gateway has its own :class:`TokenBook` with its lifetimes. Ocean Engine
and Doudian rotate: a refresh hands out a new pair and the refresh token
used dies at once. The open platform does not: a refresh issues a new
access token and leaves the refresh token (and its expiry) as it was.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["Issued", "TokenBook"]

#: What a presented token turned out to be.
Check = Literal["ok", "missing", "unknown", "expired"]


@dataclass(frozen=True)
class Issued:
    """A token pair as handed out, with the lifetimes to report."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


class TokenBook:
    """The tokens of one simulated gateway.

    Args:
        prefix: text every token of this gateway starts with (readable in tests).
        now: the simulator clock.
        access_ttl: access-token lifetime.
        refresh_ttl: refresh-token lifetime.
        rotate: whether a refresh issues a new refresh token and kills the old one.
    """

    def __init__(self, prefix: str, now: Callable[[], datetime], *, access_ttl: timedelta, refresh_ttl: timedelta,
                 rotate: bool) -> None:
        self.prefix = prefix
        self._now = now
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.rotate = rotate
        self._lock = threading.Lock()
        self._access: dict[str, datetime] = {}
        self._refresh: dict[str, datetime] = {}
        self.refreshes = 0
        first = self.issue()
        self.initial_access, self.initial_refresh = first.access_token, first.refresh_token

    def issue(self) -> Issued:
        """A brand-new pair (an authorisation)."""
        with self._lock:
            return self._new_pair(None)

    def _new_pair(self, keep_refresh: str | None) -> Issued:
        now = self._now()
        access = f"{self.prefix}-at-{secrets.token_hex(12)}"
        self._access[access] = now + self.access_ttl
        if keep_refresh is None:
            refresh = f"{self.prefix}-rt-{secrets.token_hex(12)}"
            self._refresh[refresh] = now + self.refresh_ttl
        else:
            refresh = keep_refresh
        remaining = int((self._refresh[refresh] - now).total_seconds())
        return Issued(access, refresh, int(self.access_ttl.total_seconds()), remaining)

    def check(self, token: str | None) -> Check:
        """Whether an access token may be used now."""
        if not token:
            return "missing"
        with self._lock:
            expires = self._access.get(token)
        if expires is None:
            return "unknown"
        return "ok" if self._now() < expires else "expired"

    def refresh(self, refresh_token: str | None) -> Issued | Check:
        """Trade a refresh token for a new access token (and, when rotating, a new refresh token)."""
        if not refresh_token:
            return "missing"
        with self._lock:
            expires = self._refresh.get(refresh_token)
            if expires is None:
                return "unknown"
            if self._now() >= expires:
                return "expired"
            self.refreshes += 1
            if self.rotate:
                del self._refresh[refresh_token]  # the old refresh token dies at once
                return self._new_pair(None)
            return self._new_pair(refresh_token)

    def expire_access(self) -> None:
        """Make every access token of this gateway expired now."""
        with self._lock:
            past = self._now() - timedelta(seconds=1)
            for token in self._access:
                self._access[token] = past

    def expire_refresh(self) -> None:
        """Make every refresh token of this gateway expired now."""
        with self._lock:
            past = self._now() - timedelta(seconds=1)
            for token in self._refresh:
                self._refresh[token] = past
