"""Juguang (聚光) streams: offline creative reports, the creative list, crowd behaviour data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.fields import CHINA_TZ
from omniplug.http import (
    CursorPage,
    Page,
    PlatformClient,
    paginate_cursor,
    paginate_pages,
)
from omniplug.rowmap import records_batch
from omniplug_xiaohongshu.client import post
from omniplug_xiaohongshu.codes import PLATFORM
from omniplug_xiaohongshu.config import XiaohongshuConfig
from omniplug_xiaohongshu.streams.walk import (
    china_midnight,
    plan_walk,
    run_walk,
)

__all__ = ["CREATIVE_PATH", "REPORT_PATH", "ad_reports", "china_day", "creatives", "touchpoints"]

REPORT_PATH = "/api/open/jg/data/report/offline/creative"
CREATIVE_PATH = "/api/open/jg/creativity/search"
#: Callers use 100-500; the SDK documents 1000 as the maximum.
REPORT_PAGE_SIZE = 500
#: Days per report request (the date-range limit is not documented; 30 is safe).
REPORT_DAYS = 30
CREATIVE_PAGE_SIZE = 100
#: Status 2 = every creative that is not deleted.
CREATIVE_STATUS_UNDELETED = 2
EVENT_PAGE_SIZE = 500
#: Days per crowd data request (the simulator's limit; no public doc, see README).
EVENT_WINDOW_DAYS = 7


def china_day(dt: datetime) -> str:
    """``yyyy-MM-dd`` of ``dt`` in China time."""
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d")


def china_wall(dt: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` of ``dt`` in China time."""
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def ad_reports(
    ctx: FetchContext, http: PlatformClient, cfg: XiaohongshuConfig, now: datetime
) -> Iterator[pa.RecordBatch]:
    """Daily creative-level offline reports, walked in 30-day ranges of whole China days.

    Offline data is T+1, so the walk ends at today's midnight; every run
    re-fetches the last ``report_lookback_days`` days (late corrections
    replace earlier rows by primary key). Rows come in ``data.data_list``;
    paging ends on an empty page (or the announced ``total_count``).
    """
    resume = plan_walk(ctx, now=now, step=timedelta(days=REPORT_DAYS), initial_days=cfg.initial_days, by_day=True,
                       end_cap=china_midnight(now), lookback=timedelta(days=cfg.report_lookback_days))

    def fetch_window(ws: datetime, we: datetime, state: Any) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        state = state or {"page": 1, "collected": 0}
        base = {"advertiser_id": cfg.advertiser_id, "start_date": china_day(ws),
                "end_date": china_day(we - timedelta(days=1)), "time_unit": "DAY", "page_size": REPORT_PAGE_SIZE}

        def fetch_page(page_no: int) -> Page[dict[str, Any]]:
            data = post(http, REPORT_PATH, {**base, "page_num": page_no})
            return Page(items=list(data.get("data_list") or []), total=data.get("total_count"))

        for page in paginate_pages(fetch_page, first_page=state["page"], collected=state["collected"],
                                   platform=PLATFORM):
            yield page.items, {"page": page.next_page_no, "collected": page.collected}

    return run_walk(resume, fetch_window, ctx, "xiaohongshu/ad_reports")


def creatives(
    ctx: FetchContext, http: PlatformClient, cfg: XiaohongshuConfig, now: datetime
) -> Iterator[pa.RecordBatch]:
    """Every undeleted creative of the advertiser (a full listing each run, resumable by page).

    ``--since``/``--until`` do not apply: a creative's material is needed
    whenever any of its spend is, however old the creative is.
    """
    cursor = ctx.cursor or {}
    first, collected = (int(cursor["next_page"]), int(cursor["collected"])) if "next_page" in cursor else (1, 0)

    def fetch_page(page_no: int) -> Page[dict[str, Any]]:
        data = post(http, CREATIVE_PATH, {"advertiser_id": cfg.advertiser_id, "status": CREATIVE_STATUS_UNDELETED,
                                          "page": {"page_index": page_no, "page_size": CREATIVE_PAGE_SIZE}})
        paging = data.get("page") or {}
        return Page(items=list(data.get("creativity_dtos") or []), total=paging.get("total_count"))

    for page in paginate_pages(fetch_page, first_page=first, collected=collected, platform=PLATFORM):
        yield with_cursor(records_batch(page.items), {"next_page": page.next_page_no, "collected": page.collected})
    yield with_cursor(records_batch([]), {"listed_at": now.isoformat()})


def touchpoints(
    ctx: FetchContext, http: PlatformClient, cfg: XiaohongshuConfig, now: datetime
) -> Iterator[pa.RecordBatch]:
    """Crowd behaviour events (reads, likes, favorites, comments, searches, ad impressions).

    Walked in windows of :data:`EVENT_WINDOW_DAYS` days (``[start_time,
    end_time)`` in China time), each paged by an opaque cursor with ``has_more``.
    """
    resume = plan_walk(ctx, now=now, step=timedelta(days=EVENT_WINDOW_DAYS), initial_days=cfg.initial_days)

    def fetch_window(ws: datetime, we: datetime, state: Any) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        base = {"advertiser_id": cfg.advertiser_id, "start_time": china_wall(ws), "end_time": china_wall(we),
                "page_size": EVENT_PAGE_SIZE}

        def fetch(cursor: Any) -> CursorPage[dict[str, Any]]:
            data = post(http, cfg.touchpoints_path, {**base, **({"cursor": cursor} if cursor else {})})
            return CursorPage(items=list(data.get("list") or []), next_cursor=data.get("cursor") or None,
                              has_more=bool(data.get("has_more")))

        for page in paginate_cursor(fetch, start=state, platform=PLATFORM):
            yield page.items, page.next_cursor

    return run_walk(resume, fetch_window, ctx, "xiaohongshu/touchpoints")
