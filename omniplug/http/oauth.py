"""Access tokens that stay fresh: proactive refresh, one refresh at a time, saved before use."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from omniplug.errors import AuthError
from omniplug.tokens import TokenSet, TokenStore

__all__ = ["TokenManager"]

logger = logging.getLogger("omniplug.http")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenManager:
    """Hands out a valid access token for one platform account, refreshing when needed.

    Args:
        platform: platform name (for messages and the store key).
        store: where the token set lives; it must already hold one (the
            result of the platform's authorisation flow).
        refresh: the plugin's refresh call: takes the stale token set and
            returns the new one. It must not use a client built on this
            manager (it would ask this manager for a token while refreshing).
        account: store key of the account, for brands with several shops.
        refresh_skew: refresh proactively when the token expires within this
            many seconds.
        clock: returns the current UTC-aware time (default: the real time;
            pass a simulator's ``clock.now`` to follow simulated time).

    Rotation rule: the new token set is saved to ``store`` before it is
    returned, so a platform that invalidates the old refresh token on use
    (Ocean Engine) cannot lock the brand out if the process dies right after.
    """

    def __init__(
        self,
        platform: str,
        store: TokenStore,
        refresh: Callable[[TokenSet], TokenSet],
        *,
        account: str = "default",
        refresh_skew: float = 300,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.platform = platform
        self.account = account
        self.refresh_skew = refresh_skew
        self._store = store
        self._refresh = refresh
        self._clock = clock or _utcnow
        self._lock = threading.Lock()

    def current(self) -> TokenSet:
        """The token set to use now, refreshed first if it expires within the skew.

        Raises :class:`~omniplug.errors.AuthError` when no token was saved.
        """
        token = self._saved()
        if token.expires_within(self.refresh_skew, now=self._clock()):
            return self.refresh(token)
        return token

    def refresh(self, stale: TokenSet) -> TokenSet:
        """Replace ``stale`` with a fresh token set and return it.

        Lock-protected: when several threads find the same token expired, the
        first one refreshes and the others get its result without a second
        refresh call (which, with rotating refresh tokens, would fail).
        """
        with self._lock:
            saved = self._saved()
            if saved != stale:
                # Another thread (or process sharing the store) already rotated it.
                return saved
            self._check_refreshable(saved)
            logger.info(
                "%s: refreshing the access token of account %r", self.platform, self.account
            )
            fresh = self._refresh(saved)
            if not isinstance(fresh, TokenSet):
                raise TypeError(
                    f"{self.platform}: the refresh function returned {type(fresh).__name__}, "
                    "expected a TokenSet"
                )
            self._store.put_token(self.platform, fresh, self.account)
            return fresh

    def secret_values(self) -> tuple[str, ...]:
        """The current token values, for scrubbing from logs (empty if none saved)."""
        token = self._store.get_token(self.platform, self.account)
        if token is None:
            return ()
        values = [token.access_token.get_secret_value()]
        if token.refresh_token is not None:
            values.append(token.refresh_token.get_secret_value())
        return tuple(values)

    def _saved(self) -> TokenSet:
        token = self._store.get_token(self.platform, self.account)
        if token is None:
            raise AuthError(
                f"{self.platform}: no access token saved for account {self.account!r}; "
                "authorise the account first (see the plugin's documentation)",
                platform=self.platform,
            )
        return token

    def _check_refreshable(self, token: TokenSet) -> None:
        expires = token.refresh_expires_at
        if expires is not None and expires <= self._clock():
            raise AuthError(
                f"{self.platform}: the refresh token of account {self.account!r} expired at "
                f"{expires.isoformat()}; re-authorise the account",
                platform=self.platform,
            )
