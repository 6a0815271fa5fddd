"""The JD plugin: configuration, streams, and the calls each stream makes to JOS."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field, SecretStr

from omniplug.config import PlatformConfig
from omniplug.context import FetchContext
from omniplug.fields import CHINA_TZ, json_loads_exact
from omniplug.http import CursorPage, Page, PlatformClient, TokenManager
from omniplug.platform import PlatformPlugin, StreamSpec
from omniplug.tokens import TokenSet
from omniplug_jd import client, export, normalise, streams
from omniplug_jd.client import call, china_wall
from omniplug_jd.sim_api import (
    AD_REPORT,
    CREATIVE_LIST,
    CROWD_EXPORT,
    MEMBER_SCAN,
    ORDER_SEARCH,
    SKU_SEARCH,
)
from omniplug_jd.simulator import JdSimulator

__all__ = ["JdConfig", "JdPlugin"]

#: Order fields asked for: what normalise reads and nothing more (no consignee data).
ORDER_FIELDS = ("orderId,pin,orderState,orderStartTime,modified,orderTotalPrice,sellerDiscount,orderSellerPrice,"
                "orderPayment,itemInfoList")
#: Every order state, so that cancelled and locked orders are fetched too.
ORDER_STATES = ("WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,WAIT_SELLER_DELIVERY,PAUSE,FINISHED_L,"
                "TRADE_CANCELED,LOCKED,POP_ORDER_PAUSE")
SKU_FIELDS = "skuId,wareId,skuName,wareTitle,outerId,jdPrice,brandName,categoryName,status"
MEMBER_PAGE_SIZE = 100
REPORT_PAGE_SIZE = 100
TOUCH_PAGE_SIZE = 500
LIST_PAGE_SIZE = 100


class JdConfig(PlatformConfig):
    """``[platforms.jd]``: the JOS app, the shop's authorisation, and what could not be confirmed.

    Attributes:
        base_url: the JOS gateway host (requests go to ``<base_url>/routerjson``).
        oauth_base_url: JD's OAuth host (``/oauth2/refresh_token``).
        app_key: the app's key.
        app_secret: the app's secret (signs every request).
        access_token: the shop's access token (initial; refreshed ones live in the state database).
        refresh_token: the shop's refresh token, if the app has one.
        page_size_cap: order search page size (JD's cap is 50 per one doc mirror, 100 in some code).
        sign_format_params: also send and sign ``format=json`` and ``sign_method=md5`` (the SDKs
            do; JD's official signing example sends neither).
        order_date_type: ``dateType`` of order search: 0 modified time, 1 creation time (unverified).
        initial_days: how far back a first run without ``--since`` reaches.
        report_lookback_days: days re-fetched on each report run (attribution still changes them).
        ad_report_method: the 京准通 creative-day report method (unconfirmed name).
        creative_method: the 京准通 creative list method (unconfirmed name).
        crowd_export_method: the brand crowd behaviour export method (unconfirmed name).
    """

    base_url: str = "https://api.jd.com"
    oauth_base_url: str = "https://open-oauth.jd.com"
    app_key: str
    app_secret: SecretStr
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    page_size_cap: Literal[50, 100] = 50
    sign_format_params: bool = False
    order_date_type: Literal[0, 1] = 0
    initial_days: int = Field(default=31, ge=1)
    report_lookback_days: int = Field(default=1, ge=0)
    ad_report_method: str = AD_REPORT
    creative_method: str = CREATIVE_LIST
    crowd_export_method: str = CROWD_EXPORT


def _sleep_of(ctx: FetchContext) -> Callable[[float], object]:
    """Where retry waits go: the simulated clock's ``sleep`` when ``ctx.now`` belongs to one, else real sleep.

    Tests and the demo pass a simulator's ``clock.now``; waiting on that
    clock lets a platform's ban pass in simulated time instead of real time.
    """
    sleep = getattr(getattr(ctx.now, "__self__", None), "sleep", None)
    return sleep if callable(sleep) else time.sleep


def _day(dt: datetime) -> str:
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d")


def _last_second(hi: datetime) -> str:
    """JD's windows include their end: stop one second before an exclusive end (times are whole seconds)."""
    return china_wall(hi - timedelta(seconds=1))


class JdPlugin(PlatformPlugin):
    """JD (京东) via the JOS gateway: orders, members, 京准通 reports and creatives, skus, crowd behaviour."""

    name = "jd"
    config_model = JdConfig
    streams = (
        StreamSpec("orders", tables=("orders", "order_items"), cursor="order time window (<= 1 month) + page",
                   description="POP orders (jingdong.pop.order.search)", read_export=export.read_orders),
        StreamSpec("members", tables=("identity_links",), cursor="scroll_id of a full member scan",
                   description="brand members: pin <-> phone (jingdong.crm.member.scan)"),
        StreamSpec("ad_reports", tables=("spend",), cursor="report day window + page",
                   description="京准通 daily creative report", read_export=export.read_ad_reports),
        StreamSpec("products", tables=("products",), cursor="page of a full sku scan",
                   description="skus (jingdong.sku.read.searchSkuList)"),
        StreamSpec("touchpoints", tables=("touchpoints",), cursor="event time window + page",
                   description="brand crowd behaviour (数坊 export)", read_export=export.read_touchpoints),
        StreamSpec("materials", tables=("materials",), cursor="page of a full creative scan",
                   description="京准通 creatives and their images"),
    )
    simulator = JdSimulator

    def create_client(self, ctx: FetchContext) -> PlatformClient:
        """A gateway client that signs each attempt and refreshes the access token on code 19."""
        cfg: JdConfig = ctx.config  # type: ignore[assignment]
        now = ctx.now or client.utc_now
        secret = cfg.app_secret.get_secret_value()
        if ctx.tokens.get_token(self.name, cfg.account) is None:
            # The configured token is the initial authorisation; refreshed
            # (maybe rotated) tokens live in the state database from then on.
            ctx.tokens.put_token(self.name, TokenSet(access_token=cfg.access_token, refresh_token=cfg.refresh_token),
                                 cfg.account)
        sleep = _sleep_of(ctx)

        def oauth() -> PlatformClient:
            return ctx.make_client(base_url=cfg.oauth_base_url, classify=client.classify_oauth, sleep=sleep)

        manager = TokenManager(self.name, ctx.tokens, client.make_refresh(oauth, cfg.app_key, secret, now),
                               account=cfg.account, clock=now)
        return ctx.make_client(
            classify=client.make_classify(now),
            prepare=client.make_prepare(cfg.app_key, secret, now, sign_format_params=cfg.sign_format_params),
            token_manager=manager,
            sleep=sleep,
        )

    def fetch(self, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Yield one raw batch per page, each carrying the cursor to resume after it."""
        fetchers = {"orders": self._orders, "members": self._members, "ad_reports": self._ad_reports,
                    "products": self._products, "touchpoints": self._touchpoints, "materials": self._materials}
        return fetchers[stream](ctx)

    def normalise(self, stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
        """See :mod:`omniplug_jd.normalise`."""
        return normalise.normalise(stream, batch)

    # -- one method per stream ---------------------------------------------------------------

    def _orders(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        cfg: JdConfig = ctx.config  # type: ignore[assignment]

        def page(lo: datetime, hi: datetime, page_no: int) -> Page[dict[str, Any]]:
            result = call(ctx.http, ORDER_SEARCH, {
                "start_date": china_wall(lo), "end_date": _last_second(hi), "order_state": ORDER_STATES,
                "optional_fields": ORDER_FIELDS, "page": str(page_no), "page_size": str(cfg.page_size_cap),
                "dateType": str(cfg.order_date_type), "sortType": "1",
            })["searchorderinfo_result"]
            return Page(items=result.get("orderInfoList") or [], total=int(result["orderTotal"]))

        return streams.windowed(ctx, page, initial_days=cfg.initial_days, label="orders")

    def _members(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        def scroll(scroll_id: str | None) -> CursorPage[dict[str, Any]]:
            args: dict[str, Any] = {"scroll_id": scroll_id} if scroll_id else {"page_size": MEMBER_PAGE_SIZE}
            result = call(ctx.http, MEMBER_SCAN, args)["crm_member_scan_result"]
            return CursorPage(items=result.get("crm_members") or [], next_cursor=result.get("scroll_id"))

        return streams.scroll_scan(ctx, scroll, label="members")

    def _ad_reports(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        cfg: JdConfig = ctx.config  # type: ignore[assignment]

        def page(lo: datetime, hi: datetime, page_no: int) -> Page[dict[str, Any]]:
            data = call(ctx.http, cfg.ad_report_method, {
                "startDay": _day(lo), "endDay": _day(hi - timedelta(seconds=1)), "isDaily": True,
                "page": page_no, "pageSize": REPORT_PAGE_SIZE,
            })["returnType"]["data"]
            return Page(items=data.get("datas") or [], total=int(data["paginator"]["items"]))

        return streams.windowed(ctx, page, initial_days=cfg.initial_days,
                                lookback=timedelta(days=cfg.report_lookback_days), label="ad_reports")

    def _products(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        def page(page_no: int) -> Page[dict[str, Any]]:
            data = call(ctx.http, SKU_SEARCH, {"pageNo": page_no, "pageSize": LIST_PAGE_SIZE,
                                               "field": SKU_FIELDS})["page"]
            return Page(items=data.get("data") or [], total=int(data["totalItem"]))

        return streams.full_scan(ctx, page, label="products")

    def _touchpoints(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        cfg: JdConfig = ctx.config  # type: ignore[assignment]

        def page(lo: datetime, hi: datetime, page_no: int) -> Page[dict[str, Any]]:
            result = call(ctx.http, cfg.crowd_export_method, {
                "startTime": china_wall(lo), "endTime": _last_second(hi), "page": page_no, "pageSize": TOUCH_PAGE_SIZE,
            })
            # The payload is a JSON text inside the JSON answer; parse it exactly too.
            data = json_loads_exact(result["queryResult"])["data"]
            return Page(items=data.get("list") or [], total=int(data["total"]))

        return streams.windowed(ctx, page, initial_days=cfg.initial_days, label="touchpoints")

    def _materials(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        cfg: JdConfig = ctx.config  # type: ignore[assignment]

        def page(page_no: int) -> Page[dict[str, Any]]:
            args = {"page": page_no, "pageSize": LIST_PAGE_SIZE}
            data = call(ctx.http, cfg.creative_method, args)["returnType"]["data"]
            return Page(items=data.get("datas") or [], total=int(data["paginator"]["items"]))

        return streams.full_scan(ctx, page, label="materials")
