"""The Douyin plugin: streams of Ocean Engine, Xingtu, the open platform and Doudian."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.http import PlatformClient
from omniplug.platform import PlatformPlugin, StreamSpec
from omniplug_douyin import (
    client,
    doudian,
    export,
    normalise,
    ocean_streams,
    open_platform,
    xingtu,
)
from omniplug_douyin.config import DouyinConfig
from omniplug_douyin.simulator import DouyinSimulator

__all__ = ["DouyinConfig", "DouyinPlugin"]

_T = normalise.TABLES


class DouyinPlugin(PlatformPlugin):
    """Douyin: Ocean Engine ads and materials, Xingtu KOL orders, followers' ids and Doudian shop orders."""

    name = "douyin"
    config_model = DouyinConfig
    streams = (
        StreamSpec("ad_reports", tables=_T["ad_reports"], cursor="report day window (<= 30 days per query) + page",
                   description="Ocean Engine daily spend by project and material",
                   read_export=export.read_report_export),
        StreamSpec("materials", tables=_T["materials"], cursor="upload day + page (images, then videos)",
                   description="Ocean Engine creative library (expiring preview URLs, MD5 signatures)"),
        StreamSpec("xingtu_orders", tables=_T["xingtu_orders"], cursor="demand + page (re-walked each run)",
                   description="Xingtu KOL orders with post-campaign reports"),
        StreamSpec("shop_orders", tables=_T["shop_orders"], cursor="created time window + page",
                   description="Doudian shop orders, receiver phones hashed", read_export=export.read_order_export),
        StreamSpec("touchpoints", tables=_T["touchpoints"], cursor="event time window (<= 30 days) + cursor",
                   description="Ocean Engine crowd touch data by open_id"),
        StreamSpec("identities", tables=_T["identities"], cursor="follower list cursor",
                   description="open platform followers: open_id <-> union_id, oaid <-> open_id"),
    )
    simulator = DouyinSimulator

    def create_client(self, ctx: FetchContext) -> PlatformClient:
        """The default client (``ctx.http``): Ocean Engine; the other gateways get their own."""
        return client.ocean_client(ctx)

    def fetch(self, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Yield one raw batch per page, each carrying the cursor to resume after it."""
        cfg: DouyinConfig = ctx.config  # type: ignore[assignment]
        if stream == "ad_reports":
            return ocean_streams.fetch_ad_reports(ctx, ctx.http, cfg.advertiser_id, initial_days=cfg.initial_days,
                                                  page_size=cfg.report_page_size)
        if stream == "materials":
            return ocean_streams.fetch_materials(ctx, ctx.http, cfg.advertiser_id)
        if stream == "touchpoints":
            return ocean_streams.fetch_touchpoints(ctx, ctx.http, cfg.advertiser_id, path=cfg.touch_events_path,
                                                   initial_days=cfg.initial_days)
        if stream == "xingtu_orders":
            return xingtu.fetch_xingtu_orders(ctx, ctx.http, cfg.xingtu_star_id)
        if stream == "shop_orders":
            return doudian.fetch_shop_orders(ctx, client.shop_client(ctx), cfg.initial_days)
        if stream == "identities":
            http = client.open_client(ctx)
            assert cfg.open_id is not None  # open_client checked it
            return open_platform.fetch_identities(ctx, http, cfg.open_id)
        raise KeyError(f"douyin has no stream {stream!r}")

    def normalise(self, stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
        """See :mod:`omniplug_douyin.normalise`."""
        return normalise.normalise(stream, batch)
