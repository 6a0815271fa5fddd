"""The exceptions of omniplug, under one root: :class:`OmniplugError`.

Every error omniplug raises on purpose, from Python or from the Rust core,
is an ``OmniplugError``; catch that one class in an ETL job to tell "omniplug
refused this input or this platform failed" from a bug elsewhere. Messages
say what is wrong and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "OmniplugError",
    "ConfigError",
    "PluginError",
    "InvalidInputError",
    "SchemaError",
    "LimitExceededError",
    "CoreInternalError",
    "StateError",
    "PlatformError",
    "AuthError",
    "SignatureError",
    "TokenExpiredError",
    "ThrottledError",
    "TransientError",
    "PaginationError",
]


class OmniplugError(Exception):
    """Root of every error omniplug raises on purpose."""


class ConfigError(OmniplugError):
    """A pipeline configuration is missing, unreadable or invalid.

    The message names the file, the key and what was expected.
    """


class PluginError(OmniplugError):
    """A plugin could not be loaded, or no plugin answers a hook call."""


class InvalidInputError(OmniplugError, ValueError):
    """Data or parameters handed to omniplug break a rule (raised by Python and Rust)."""


class SchemaError(InvalidInputError):
    """A table does not have the columns or types a canonical table needs."""


class LimitExceededError(OmniplugError):
    """A safety limit was hit (size of a download, pixels of an image, ...)."""


class CoreInternalError(OmniplugError):
    """An invariant of the Rust core failed: a bug, please report it."""


class StateError(OmniplugError):
    """The state database (cursors, tokens, run log) is unreadable or inconsistent."""


class PlatformError(OmniplugError):
    """A platform API answered with an error.

    Attributes:
        platform: platform name (``tmall``, ``jd``, ...).
        code: the platform's own error code, as it sent it (may be ``None``).
        retryable: whether retrying the same request can succeed.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        code: str | int | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.platform = platform
        self.code = code
        if retryable is not None:
            self.retryable = retryable


class AuthError(PlatformError):
    """Credentials were refused (bad app key, bad secret, revoked token). Not retried."""


class SignatureError(AuthError):
    """The platform rejected the request signature: check the app secret and sign method."""


class TokenExpiredError(AuthError):
    """The access token expired or was invalidated; a refresh may fix it."""


class ThrottledError(PlatformError):
    """The platform throttled the caller. ``retry_after`` is the wait it asked for, in seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransientError(PlatformError):
    """A temporary failure (5xx, dropped connection, platform 'service busy'); retried."""

    retryable = True


class PaginationError(PlatformError):
    """A paginator misbehaved: it would loop forever, or stopped before the total it announced."""
