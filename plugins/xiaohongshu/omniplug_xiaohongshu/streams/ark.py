"""Ark (方舟) stream: shop orders through the signed ``common_controller`` gateway.

``order.getOrderList`` answers only short windows: at most 24 h by creation
time (``timeType`` 1) or 30 min by update time (``timeType`` 2, to be paged
from the last page to the first), at most 100 pages of at most 100 orders.
A backfill (first run, or ``--since``) therefore walks created-time windows;
an incremental run walks update-time windows from the last watermark to now,
which also picks up refunds and cancellations of older orders. Each listed
order is completed with ``order.getOrderDetail`` (SKU lines, buyer, receiver).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.errors import ConfigError, PaginationError
from omniplug.http import Page, PlatformClient, paginate_pages
from omniplug_xiaohongshu.client import (
    ARK_PATH,
    make_ark_classify,
    make_ark_prepare,
    post,
    utc_now,
)
from omniplug_xiaohongshu.codes import PLATFORM
from omniplug_xiaohongshu.config import XiaohongshuConfig
from omniplug_xiaohongshu.streams.walk import plan_walk, run_walk

__all__ = ["ARK_MAX_PAGE_NO", "ARK_PAGE_SIZE", "UPDATED_WINDOW", "ark_client", "shop_orders"]

ARK_MAX_PAGE_NO = 100
ARK_PAGE_SIZE = 100
UPDATED_WINDOW = timedelta(minutes=30)
TIME_CREATED, TIME_UPDATED = 1, 2


def ark_client(ctx: FetchContext, cfg: XiaohongshuConfig, sleep: Callable[[float], Any]) -> PlatformClient:
    """A client on ``ark_base_url`` that signs every attempt with the Ark app secret."""
    if not (cfg.ark_app_id and cfg.ark_app_secret and cfg.ark_access_token):
        raise ConfigError("[platforms.xiaohongshu]: shop_orders needs ark_app_id, ark_app_secret and "
                          "ark_access_token (the Ark app and the shop's authorisation)")
    prepare = make_ark_prepare(cfg.ark_app_id, cfg.ark_app_secret.get_secret_value(),
                               cfg.ark_access_token.get_secret_value(), ctx.now or utc_now)
    return ctx.make_client(base_url=cfg.ark_base_url, classify=make_ark_classify(cfg.throttle_wait_seconds),
                           prepare=prepare, sleep=sleep)


def shop_orders(
    ctx: FetchContext, http: PlatformClient, cfg: XiaohongshuConfig, now: datetime
) -> Iterator[pa.RecordBatch]:
    """Orders with their details, one batch per list page, resumable inside the window walk."""
    resume = plan_walk(ctx, now=now, step=timedelta(hours=cfg.ark_window_hours), initial_days=cfg.initial_days,
                       mode="created", incremental=("updated", UPDATED_WINDOW))
    updated = resume.walk.mode == "updated"

    def list_page(ws: datetime, we: datetime, page_no: int) -> dict[str, Any]:
        data = post(http, ARK_PATH, {
            "method": "order.getOrderList", "startTime": int(ws.timestamp()), "endTime": int(we.timestamp()),
            "timeType": TIME_UPDATED if updated else TIME_CREATED, "orderType": 0, "orderStatus": 0,
            "pageNo": page_no, "pageSize": ARK_PAGE_SIZE})
        max_page = int(data.get("maxPageNo") or 0)
        if max_page > ARK_MAX_PAGE_NO:
            raise PaginationError(
                f"{PLATFORM}: {data.get('total')} orders in the window {ws.isoformat()}..{we.isoformat()} need "
                f"{max_page} pages, but Ark serves at most {ARK_MAX_PAGE_NO}; lower ark_window_hours",
                platform=PLATFORM)
        return data

    def with_details(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        merged = []
        for summary in summaries:
            detail = post(http, ARK_PATH, {"method": "order.getOrderDetail", "orderId": summary["orderId"]})
            merged.append({**summary, **detail})
        return merged

    def created_window(ws: datetime, we: datetime, state: Any) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        state = state or {"page": 1, "collected": 0}

        def fetch_page(page_no: int) -> Page[dict[str, Any]]:
            data = list_page(ws, we, page_no)
            return Page(items=list(data.get("orderList") or []), has_next=page_no < int(data.get("maxPageNo") or 0),
                        total=data.get("total"))

        for page in paginate_pages(fetch_page, first_page=state["page"], collected=state["collected"],
                                   platform=PLATFORM):
            yield with_details(page.items), {"page": page.next_page_no, "collected": page.collected}

    def updated_window(ws: datetime, we: datetime, state: Any) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        # Update-time pages shift while orders change, so Ark asks to page from
        # the last page back to the first; the first request only learns how many.
        if state is None:
            probe = list_page(ws, we, 1)
            last = int(probe.get("maxPageNo") or 0)
            if last <= 1:
                items = list(probe.get("orderList") or [])
                if items:
                    yield with_details(items), {"last_page": last, "page": 0}
                return
            state = {"last_page": last, "page": last}
        page_no = int(state["page"])
        while page_no >= 1:
            items = list(list_page(ws, we, page_no).get("orderList") or [])
            if not items:
                raise PaginationError(f"{PLATFORM}: page {page_no} of {state['last_page']} of the update window "
                                      f"{ws.isoformat()} came back empty; run again", platform=PLATFORM)
            page_no -= 1
            yield with_details(items), {"last_page": state["last_page"], "page": page_no}

    return run_walk(resume, updated_window if updated else created_window, ctx, "xiaohongshu/shop_orders")
