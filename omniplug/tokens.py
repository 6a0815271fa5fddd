"""OAuth token sets and where they are kept.

A :class:`TokenSet` is what a platform's token endpoint returned, with the
secrets wrapped in ``SecretStr`` so a stray ``print`` or log line never shows
them. A :class:`TokenStore` persists token sets; the state database
(:class:`omniplug.state.StateStore`) is the durable one, and
:class:`MemoryTokenStore` serves tests and one-off scripts.

Rotation rule: platforms such as Ocean Engine invalidate the old refresh
token the moment they hand out a new one, so a refreshed token set must be
*saved before it is used*; otherwise a crash between refresh and save locks
the brand out until someone re-authorises by hand.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["TokenSet", "TokenStore", "MemoryTokenStore"]


class TokenSet(BaseModel):
    """Tokens for one platform account.

    Attributes:
        access_token: the bearer/session token sent with API calls.
        refresh_token: the token used to get a new access token, if any.
        expires_at: when the access token expires (UTC), if known.
        refresh_expires_at: when the refresh token expires (UTC), if known.
        extra: other fields of the token response (user ids, scopes) that are not secret.
    """

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        """True when the access token expires within ``seconds`` (or already has)."""
        if self.expires_at is None:
            return False
        now = now or datetime.now(UTC)
        return self.expires_at - now <= timedelta(seconds=seconds)

    def to_storage(self) -> dict[str, Any]:
        """A JSON-able dict with the secrets revealed: for the state database only."""
        return {
            "access_token": self.access_token.get_secret_value(),
            "refresh_token": self.refresh_token.get_secret_value() if self.refresh_token else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "refresh_expires_at": (
                self.refresh_expires_at.isoformat() if self.refresh_expires_at else None
            ),
            "extra": self.extra,
        }

    @classmethod
    def from_storage(cls, data: dict[str, Any]) -> TokenSet:
        """Inverse of :meth:`to_storage`."""
        return cls.model_validate(data)


@runtime_checkable
class TokenStore(Protocol):
    """Somewhere token sets survive between calls (and, for durable stores, between runs)."""

    def get_token(self, platform: str, account: str = "default") -> TokenSet | None:
        """The saved token set, or ``None`` if none was saved."""
        ...

    def put_token(self, platform: str, token: TokenSet, account: str = "default") -> None:
        """Save ``token``, replacing the previous one. Must be durable on return."""
        ...


class MemoryTokenStore:
    """A thread-safe in-process :class:`TokenStore` (lost when the process ends)."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], TokenSet] = {}
        self._lock = threading.Lock()

    def get_token(self, platform: str, account: str = "default") -> TokenSet | None:
        """The saved token set, or ``None``."""
        with self._lock:
            return self._tokens.get((platform, account))

    def put_token(self, platform: str, token: TokenSet, account: str = "default") -> None:
        """Save ``token`` for ``(platform, account)``."""
        with self._lock:
            self._tokens[(platform, account)] = token
