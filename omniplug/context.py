"""The context handed to a plugin's fetch and fingerprint hooks.

:class:`FetchContext` bundles what a plugin needs to talk to its platform
and nothing it should worry about: the validated configuration, a ready HTTP
client sharing one rate limiter, retry policy and redacting request log, the
window or saved cursor to resume from, the token store, a logger and a
progress reporter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from omniplug.config import PlatformConfig
from omniplug.http import PlatformClient, RequestLog, RetryPolicy, rate_limiter_for
from omniplug.progress import NullProgress, Progress
from omniplug.tokens import MemoryTokenStore, TokenStore

if TYPE_CHECKING:
    from omniplug.media import MediaReader
    from omniplug.platform import PlatformSpec
    from omniplug.state import StateStore

__all__ = ["FetchContext", "secret_values"]


def secret_values(model: BaseModel) -> list[str]:
    """Every ``SecretStr`` value inside a pydantic model (recursively), for log scrubbing."""
    found: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                visit(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    visit(model)
    return [s for s in found if s]


@dataclass
class FetchContext:
    """Everything a plugin's ``fetch`` needs for one stream.

    Attributes:
        platform: platform name.
        stream: stream name.
        config: the validated ``[platforms.<name>]`` section (the plugin's own model).
        cursor: the saved cursor of this stream, ``None`` on a first run or
            when an explicit window was asked for.
        since: start of the window to fetch (UTC, inclusive), if given.
        until: end of the window (UTC, exclusive), if given.
        run_id: id of the current run (for logs and rejects).
        tokens: where OAuth token sets are kept (the state database in a pipeline).
        state: the state database, when running inside a pipeline.
        request_log: every HTTP attempt, secrets redacted.
        logger: a logger named ``omniplug.<platform>``.
        progress: report long work here (``ctx.progress.task(...)``).
        now: the current UTC time (simulators pass their clock).
        sleep: how retry waits are spent (default ``time.sleep``; tests pass a
            simulator clock's ``sleep`` so a platform ban passes in simulated time).
        media: how material media are read (``omniplug_fingerprint``), with the
            run's size limits; ``None``: a reader with default limits.
    """

    platform: str
    stream: str
    config: PlatformConfig
    cursor: dict[str, Any] | None = None
    since: datetime | None = None
    until: datetime | None = None
    run_id: str = ""
    tokens: TokenStore = field(default_factory=MemoryTokenStore)
    state: StateStore | None = None
    request_log: RequestLog = field(default_factory=RequestLog)
    logger: logging.Logger | None = None
    progress: Progress = field(default_factory=NullProgress)
    now: Callable[[], datetime] | None = None
    sleep: Callable[[float], Any] | None = None
    spec: PlatformSpec | None = None
    media: MediaReader | None = None
    _http: PlatformClient | None = field(default=None, init=False, repr=False)
    _clients: list[PlatformClient] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.logger is None:
            self.logger = logging.getLogger(f"omniplug.{self.platform}")

    @property
    def secrets(self) -> list[str]:
        """Secret values of the configuration, scrubbed from every log line."""
        return secret_values(self.config)

    def make_client(
        self,
        *,
        base_url: str | None = None,
        extra_secrets: Iterable[str] = (),
        **options: Any,
    ) -> PlatformClient:
        """A :class:`~omniplug.http.PlatformClient` with this platform's shared settings.

        The client uses ``config.base_url`` (or ``base_url``), the platform's
        shared token-bucket rate limiter, a retry policy of
        ``config.max_attempts`` tries, the config's timeout and this
        context's request log, and scrubs every secret of the config from
        logs. ``options`` are passed on (``classify``, ``prepare``,
        ``token_manager``, ``headers``...). The context closes it in :meth:`close`.
        """
        cfg = self.config
        limiter = None
        if cfg.rate_limit_per_second:
            burst = cfg.rate_limit_burst or max(1, int(cfg.rate_limit_per_second))
            limiter = rate_limiter_for(self.platform, cfg.rate_limit_per_second, burst)
        options.setdefault("retry", RetryPolicy(max_attempts=cfg.max_attempts))
        options.setdefault("timeout", cfg.timeout_seconds)
        if self.sleep is not None:
            options.setdefault("sleep", self.sleep)
        client = PlatformClient(
            self.platform,
            base_url or cfg.base_url,
            rate_limiter=limiter,
            request_log=self.request_log,
            secrets=[*self.secrets, *extra_secrets],
            **options,
        )
        self._clients.append(client)
        return client

    @property
    def http(self) -> PlatformClient:
        """The platform's default client (built by the plugin's ``create_client``)."""
        if self._http is None:
            factory = self.spec.client_factory if self.spec is not None else None
            self._http = factory(self) if factory is not None else self.make_client()
        return self._http

    def close(self) -> None:
        """Close every client this context made."""
        for client in self._clients:
            client.close()
        self._clients.clear()
        self._http = None
