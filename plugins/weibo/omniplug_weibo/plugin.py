"""The Weibo plugin: configuration, streams and clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, SecretStr

from omniplug.config import PlatformConfig
from omniplug.context import FetchContext
from omniplug.http import PlatformClient
from omniplug.platform import PlatformPlugin, StreamSpec
from omniplug_weibo import client, normalise, streams
from omniplug_weibo.export import read_ad_report_export
from omniplug_weibo.simulator import WeiboSimulator

__all__ = ["WeiboConfig", "WeiboPlugin"]


class WeiboConfig(PlatformConfig):
    """``[platforms.weibo]``: the app, the brand account's authorisation and the hosts.

    Attributes:
        base_url: the open API host (paths ``/2/...`` and ``/oauth2/...``).
        access_token: the brand account's OAuth 2.0 token (no refresh token
            exists for web apps: when it expires, authorise again).
        app_key: the app's ``client_id`` (for the OAuth helpers).
        app_secret: the app's ``client_secret`` (for the OAuth helpers).
        uid: the brand account's uid, whose timeline is fetched.
        ads_base_url: the 超级粉丝通 ads host (unconfirmed; see README).
        ads_access_token: the ads host's token when it differs from ``access_token``.
        token_in: send the token as the ``access_token`` parameter or the
            ``Authorization: OAuth2`` header.
        statuses_count: posts per timeline page (Weibo allows 100 at most).
        engagements_count: comments/reposts per page (200 at most, unconfirmed).
        initial_days: days of ad reports a first run fetches.
    """

    base_url: str = "https://api.weibo.com"
    access_token: SecretStr
    app_key: str = ""
    app_secret: SecretStr | None = None
    uid: str
    ads_base_url: str = "https://api.biz.weibo.com"
    ads_access_token: SecretStr | None = None
    token_in: Literal["param", "header"] = "param"
    statuses_count: int = Field(default=100, ge=1, le=100)
    engagements_count: int = Field(default=200, ge=1, le=200)
    initial_days: int = Field(default=31, ge=1)


def _clock_sleep(now: Callable[[], datetime] | None) -> Callable[[float], Any] | None:
    """The ``sleep`` of the clock ``now`` belongs to (a simulator's), so waits pass on that clock.

    Weibo's hourly limits make the client wait until the top of the hour of
    the clock it measured on; on a simulated clock that wait must move the
    same clock, not the wall clock.
    """
    owner = getattr(now, "__self__", None)
    sleep = getattr(owner, "sleep", None)
    return sleep if callable(sleep) else None


class WeiboPlugin(PlatformPlugin):
    """Weibo: the brand's posts (materials), their engagement (touchpoints) and 粉丝通 spend."""

    name = "weibo"
    config_model = WeiboConfig
    streams = (
        StreamSpec("statuses", tables=("materials",), cursor="since_id (newest post) + max_id mid-walk",
                   description="the brand account's posts and reposted KOL posts with their creatives"),
        StreamSpec("engagements", tables=("touchpoints",), cursor="since_id per post + max_id mid-walk",
                   description="comments, reposts, exposures and likes by weibo_uid"),
        StreamSpec("ad_reports", tables=("spend",), cursor="report date window + page",
                   description="粉丝通 creative daily spend and 微任务 KOL orders",
                   read_export=read_ad_report_export),
    )
    simulator = WeiboSimulator

    def _client_options(self, ctx: FetchContext) -> dict[str, Any]:
        now = ctx.now or client.utc_now
        options: dict[str, Any] = {"classify": client.make_classify(now)}
        sleep = _clock_sleep(ctx.now)
        if sleep is not None:
            options["sleep"] = sleep
        return options

    def create_client(self, ctx: FetchContext) -> PlatformClient:
        """The open-API client: the access token on every attempt, Weibo's error codes classified."""
        cfg: WeiboConfig = ctx.config  # type: ignore[assignment]
        token = cfg.access_token.get_secret_value()
        return ctx.make_client(prepare=client.make_prepare(token, cfg.token_in), **self._client_options(ctx))

    def ads_client(self, ctx: FetchContext) -> PlatformClient:
        """The ads-host client (``Authorization: Bearer``), sharing the context's log and limits."""
        cfg: WeiboConfig = ctx.config  # type: ignore[assignment]
        token = (cfg.ads_access_token or cfg.access_token).get_secret_value()
        return ctx.make_client(base_url=cfg.ads_base_url, prepare=client.make_ads_prepare(token),
                               extra_secrets=[token], **self._client_options(ctx))

    def fetch(self, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Yield one raw batch per page, each carrying the cursor to resume after it."""
        if stream == "statuses":
            return streams.fetch_statuses(ctx, ctx.http, self.ads_client(ctx))
        if stream == "engagements":
            return streams.fetch_engagements(ctx, ctx.http, self.ads_client(ctx))
        if stream == "ad_reports":
            return streams.fetch_ad_reports(ctx, self.ads_client(ctx), (ctx.now or client.utc_now)())
        raise KeyError(f"weibo has no stream {stream!r}")

    def normalise(self, stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
        """See :mod:`omniplug_weibo.normalise`."""
        return normalise.normalise(stream, batch)
