"""Time-windowed streams besides orders: ``members``, ``ad_reports`` and ``touchpoints``.

Their TOP method names are configurable because they could not be
confirmed against official documentation (see the README); the shapes
follow the TOP conventions (``<method>_response`` envelope, double-wrapped
lists, China wall times).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import partial

import pyarrow as pa

from omniplug.http import Page
from omniplug_tmall.client import china_stamp, unwrap
from omniplug_tmall.paging import walk_forward
from omniplug_tmall.streams.common import Env, Record, china_midnight

__all__ = ["MEMBER_PAGE_SIZE", "REPORT_PAGE_SIZE", "TOUCH_PAGE_SIZE", "fetch_ad_reports", "fetch_members",
           "fetch_touchpoints"]

MEMBER_PAGE_SIZE = 100
REPORT_PAGE_SIZE = 100
TOUCH_PAGE_SIZE = 500
_SECOND = timedelta(seconds=1)
_DAY = timedelta(days=1)


def fetch_members(env: Env) -> Iterator[pa.RecordBatch]:
    """CRM members by modification time (joining the membership is a modification)."""
    cfg = env.cfg
    end = env.now - timedelta(seconds=cfg.increment_lag_seconds)
    rng = env.plan("modified", timedelta(days=cfg.members_window_days), initial=timedelta(days=cfg.initial_days),
                   end=end)

    def page(start: datetime, stop: datetime, page_no: int) -> Page[Record]:
        body = env.call(cfg.members_method, modify_time_min=china_stamp(start),
                        modify_time_max=china_stamp(stop - _SECOND), current_page=page_no, page_size=MEMBER_PAGE_SIZE)
        return Page(items=unwrap(body, "members", "basic_member"), total=int(body.get("total_result") or 0))

    return walk_forward(rng, page, env.task("members"))


def fetch_ad_reports(env: Env) -> Iterator[pa.RecordBatch]:
    """Daily offline report rows (day x campaign x creative), whole China days up to yesterday."""
    cfg = env.cfg
    rng = env.plan("days", timedelta(days=cfg.report_window_days), initial=timedelta(days=cfg.initial_days),
                   end=china_midnight(env.now), align=china_midnight,
                   align_end=partial(china_midnight, ceil=True), lookback=timedelta(days=cfg.report_lookback_days))

    def page(start: datetime, stop: datetime, page_no: int) -> Page[Record]:
        # Report dates are inclusive on both ends: [start, stop) is start .. stop - 1 day.
        body = env.call(cfg.ad_report_method, start_time=start.date().isoformat(),
                        end_time=(stop - _DAY).date().isoformat(), offset=(page_no - 1) * REPORT_PAGE_SIZE,
                        page_size=REPORT_PAGE_SIZE)
        result = body.get("result") or {}
        return Page(items=unwrap(result, "report_list", "report_result_top_dto"),
                    total=int(result.get("total_count") or 0))

    return walk_forward(rng, page, env.task("ad_reports"))


def fetch_touchpoints(env: Env) -> Iterator[pa.RecordBatch]:
    """Databank user-level touches (impressions, clicks, searches, views...) by touch time."""
    cfg = env.cfg
    rng = env.plan("time", timedelta(days=cfg.touchpoints_window_days), initial=timedelta(days=cfg.initial_days))

    def page(start: datetime, stop: datetime, page_no: int) -> Page[Record]:
        body = env.call(cfg.touchpoints_method, start_time=china_stamp(start), end_time=china_stamp(stop - _SECOND),
                        page_no=page_no, page_size=TOUCH_PAGE_SIZE)
        result = body.get("result") or {}
        return Page(items=unwrap(result, "touch_list", "touch_detail"), has_next=bool(result.get("has_next")),
                    total=int(result.get("total") or 0))

    return walk_forward(rng, page, env.task("touchpoints"))
