"""The Xiaohongshu plugin: streams, clients and the fetch dispatch."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.http import PlatformClient, TokenManager
from omniplug.platform import PlatformPlugin, StreamSpec
from omniplug.tokens import TokenSet
from omniplug_xiaohongshu import client, export, normalise
from omniplug_xiaohongshu.codes import ID_TYPE, PLATFORM
from omniplug_xiaohongshu.config import XiaohongshuConfig
from omniplug_xiaohongshu.simulator import XiaohongshuSimulator
from omniplug_xiaohongshu.streams import ark, juguang, pgy

__all__ = ["XiaohongshuConfig", "XiaohongshuPlugin"]

_FETCHERS = {
    "ad_reports": juguang.ad_reports,
    "creatives": juguang.creatives,
    "touchpoints": juguang.touchpoints,
    "kol_notes": pgy.kol_notes,
    "shop_orders": ark.shop_orders,
}


class XiaohongshuPlugin(PlatformPlugin):
    """Xiaohongshu (RED): Juguang ads, Pugongying KOL notes, crowd data and Ark shop orders."""

    name = PLATFORM
    config_model = XiaohongshuConfig
    identifier_types = (ID_TYPE,)
    streams = (
        StreamSpec("ad_reports", tables=("spend",), cursor="report date walk (30-day ranges, T+1) + page",
                   description="Juguang offline creative reports, daily", read_export=export.read_ad_reports),
        StreamSpec("creatives", tables=("materials",), cursor="page of the full creative list",
                   description="Juguang creatives (the notes they promote)"),
        StreamSpec("kol_notes", tables=("materials", "spend"), cursor="publish date walk (30-day ranges, T+1) + page",
                   description="Pugongying KOL note post-campaign data", read_export=export.read_kol_notes),
        StreamSpec("touchpoints", tables=("touchpoints",), cursor="event time walk (1-day windows) + page cursor",
                   description="crowd behaviour: reads, likes, favorites, comments, searches, ad impressions"),
        StreamSpec("shop_orders", tables=("orders", "order_items", "identity_links"),
                   cursor="created-time walk (24 h windows) then update-time walk (30 min windows) + page",
                   description="Ark shop orders with SKU lines and receiver phones (hashed)",
                   read_export=export.read_shop_orders),
    )
    simulator = XiaohongshuSimulator
    #: How retry waits are performed; tests swap in a simulator clock's ``sleep``.
    retry_sleep: ClassVar[Callable[[float], Any]] = staticmethod(time.sleep)

    def create_client(self, ctx: FetchContext) -> PlatformClient:
        """The Juguang/Pugongying client: ``Access-Token`` on every attempt, rotating refresh."""
        cfg: XiaohongshuConfig = ctx.config  # type: ignore[assignment]
        now = ctx.now or client.utc_now
        if ctx.tokens.get_token(self.name, cfg.account) is None:
            # The configured tokens are the initial authorisation; rotated ones
            # live in the state database from then on.
            ctx.tokens.put_token(self.name, TokenSet(access_token=cfg.access_token, refresh_token=cfg.refresh_token),
                                 cfg.account)
        refresh = client.make_jg_refresh(cfg.base_url, cfg.app_id, cfg.secret.get_secret_value(), now,
                                         timeout=cfg.timeout_seconds)
        manager = TokenManager(self.name, ctx.tokens, refresh, account=cfg.account, clock=now)
        return ctx.make_client(
            base_url=cfg.ads_base_url,
            classify=client.make_jg_classify(cfg.throttle_codes, cfg.token_expired_codes, cfg.throttle_wait_seconds),
            prepare=client.make_jg_prepare(cfg.pgy_auth_header),
            token_manager=manager,
            sleep=type(self).retry_sleep,
        )

    def fetch(self, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Yield one raw batch per page, each carrying the cursor to resume after it."""
        cfg: XiaohongshuConfig = ctx.config  # type: ignore[assignment]
        now = (ctx.now or client.utc_now)()
        http = ark.ark_client(ctx, cfg, type(self).retry_sleep) if stream == "shop_orders" else ctx.http
        return _FETCHERS[stream](ctx, http, cfg, now)

    def normalise(self, stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
        """See :mod:`omniplug_xiaohongshu.normalise`."""
        return normalise.normalise(stream, batch)
