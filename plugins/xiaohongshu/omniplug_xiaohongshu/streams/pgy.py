"""Pugongying (蒲公英) stream: post-campaign data of the brand's KOL notes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.errors import ConfigError
from omniplug.http import Page, PlatformClient, paginate_pages
from omniplug_xiaohongshu.client import post
from omniplug_xiaohongshu.codes import PLATFORM
from omniplug_xiaohongshu.config import XiaohongshuConfig
from omniplug_xiaohongshu.streams.juguang import china_day
from omniplug_xiaohongshu.streams.walk import china_midnight, plan_walk, run_walk

__all__ = ["NOTE_MAX_SPAN_DAYS", "NOTE_PAGE_SIZE", "NOTE_PATH", "kol_notes"]

NOTE_PATH = "/api/open/pgy/note/post/data"
#: page_size is capped at 100 by the API.
NOTE_PAGE_SIZE = 100
#: end_time - start_time may not exceed 30 days.
NOTE_MAX_SPAN_DAYS = 30
#: date_type 2: filter by the note's publish time (1 would be the order's creation time).
DATE_TYPE_PUBLISH = 2


def brand_user_id(ctx: FetchContext, cfg: XiaohongshuConfig) -> str:
    """The Pugongying brand user id: configured, else the one the Juguang token response named."""
    if cfg.user_id:
        return cfg.user_id
    token = ctx.tokens.get_token(PLATFORM, cfg.account)
    found = (token.extra or {}).get("user_id") if token is not None else None
    if not found:
        raise ConfigError("[platforms.xiaohongshu]: kol_notes needs user_id (the Pugongying brand user id, "
                          "报备品牌账号id); set user_id, or refresh the Juguang token once so its user_id is known")
    return str(found)


def kol_notes(
    ctx: FetchContext, http: PlatformClient, cfg: XiaohongshuConfig, now: datetime
) -> Iterator[pa.RecordBatch]:
    """KOL notes by publish date, walked in 30-day ranges of whole China days.

    The data is T+1 (a note published today shows up tomorrow), so the walk
    ends at today's midnight. ``date_key`` is not sent: that asks for the
    latest snapshot (yesterday's). Because a note's reads and likes keep
    growing after it is published, every run re-fetches notes published in
    the last ``kol_refresh_days`` days; their rows replace the earlier ones.
    """
    user_id = brand_user_id(ctx, cfg)
    resume = plan_walk(ctx, now=now, step=timedelta(days=NOTE_MAX_SPAN_DAYS), initial_days=cfg.initial_days,
                       by_day=True, end_cap=china_midnight(now), lookback=timedelta(days=cfg.kol_refresh_days))

    def fetch_window(ws: datetime, we: datetime, state: Any) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        state = state or {"page": 1, "collected": 0}
        base = {"user_id": user_id, "date_type": DATE_TYPE_PUBLISH, "start_time": china_day(ws),
                "end_time": china_day(we - timedelta(days=1)), "page_size": NOTE_PAGE_SIZE}

        def fetch_page(page_no: int) -> Page[dict[str, Any]]:
            data = post(http, NOTE_PATH, {**base, "page_num": page_no})
            total_page = data.get("total_page")
            return Page(items=list(data.get("datas") or []),
                        has_next=None if total_page is None else page_no < int(total_page),
                        total=data.get("total"))

        for page in paginate_pages(fetch_page, first_page=state["page"], collected=state["collected"],
                                   platform=PLATFORM):
            yield page.items, {"page": page.next_page_no, "collected": page.collected}

    return run_walk(resume, fetch_window, ctx, "xiaohongshu/kol_notes")
