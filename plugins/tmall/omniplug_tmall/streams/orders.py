"""The ``orders`` stream: trades by creation time, then by modification time.

A first run (or an explicit ``--since`` window) lists trades by creation time
with ``taobao.trades.sold.get``; later runs pick up every trade created or
changed since with ``taobao.trades.sold.increment.get``, whose windows may
span at most one day and which TOP advises to page from the last page back.
Both calls always send the full ``type`` list: without it TOP returns only a
default subset of trade types and orders silently go missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pyarrow as pa

from omniplug.http import Page
from omniplug_tmall.client import china_stamp, unwrap
from omniplug_tmall.paging import Range, walk_backward, walk_forward
from omniplug_tmall.streams.common import HORIZON, Env, Record

__all__ = ["INCREMENT_METHOD", "PAGE_SIZE", "SOLD_METHOD", "TRADE_FIELDS", "fetch_orders"]

SOLD_METHOD = "taobao.trades.sold.get"
INCREMENT_METHOD = "taobao.trades.sold.increment.get"
#: TOP's maximum page size for both trade list APIs.
PAGE_SIZE = 100
#: ``fields`` is mandatory: TOP returns only what it names.
TRADE_FIELDS = (
    "tid,type,status,payment,created,modified,pay_time,buyer_open_uid,ouid,buyer_nick,receiver_mobile,"
    "orders.oid,orders.num_iid,orders.num,orders.payment,orders.title,orders.outer_iid,orders.status"
)
_SECOND = timedelta(seconds=1)


def _bounds(start: datetime, end: datetime) -> tuple[str, str]:
    # TOP's ranges include both ends, in whole seconds: [start, end - 1 s] covers [start, end).
    return china_stamp(start), china_stamp(end - _SECOND)


def fetch_orders(env: Env) -> Iterator[pa.RecordBatch]:
    """Yield one batch of raw trades per page, each with the cursor resuming after it."""
    cursor = env.ctx.cursor or {}
    if env.ctx.since is None and (cursor.get("mode") == "modified" or "watermark" in cursor):
        return _by_modification(env)
    return _by_creation(env)


def _by_creation(env: Env) -> Iterator[pa.RecordBatch]:
    cfg = env.cfg
    rng = env.plan("created", timedelta(days=cfg.orders_window_days), initial=timedelta(days=cfg.initial_days))
    if rng.start < env.now - HORIZON:
        env.warn("tmall: taobao.trades.sold.get only returns the last 3 months; trades created before %s "
                 "must be imported from the back-office export (omniplug import tmall orders FILE)",
                 (env.now - HORIZON).isoformat())

    def page(start: datetime, end: datetime, page_no: int) -> Page[Record]:
        low, high = _bounds(start, end)
        body = env.call(SOLD_METHOD, fields=TRADE_FIELDS, start_created=low, end_created=high,
                        type=",".join(cfg.trade_types), page_no=page_no, page_size=PAGE_SIZE, use_has_next="true")
        return Page(items=unwrap(body, "trades", "trade"), has_next=bool(body.get("has_next")))

    return walk_forward(rng, page, env.task("orders"))


def _by_modification(env: Env) -> Iterator[pa.RecordBatch]:
    cfg = env.cfg
    end = env.now - timedelta(seconds=cfg.increment_lag_seconds)
    rng: Range = env.plan("modified", timedelta(hours=cfg.increment_window_hours), initial=HORIZON, end=end)
    oldest = env.now - HORIZON + timedelta(minutes=10)
    if rng.resume is None and rng.start < oldest:
        env.warn("tmall: the last orders run ended at %s, more than 3 months ago; TOP no longer serves changes "
                 "before %s (import the back-office export for the gap)", rng.start.isoformat(), oldest.isoformat())
        rng = replace(rng, start=oldest, end=max(oldest, rng.end))
    types = ",".join(cfg.trade_types)

    def count(start: datetime, end: datetime) -> int:
        low, high = _bounds(start, end)
        body = env.call(INCREMENT_METHOD, fields="tid", start_modified=low, end_modified=high, type=types,
                        page_no=1, page_size=1, use_has_next="false")
        return int(body.get("total_results") or 0)

    def page(start: datetime, end: datetime, page_no: int) -> list[Record]:
        low, high = _bounds(start, end)
        body = env.call(INCREMENT_METHOD, fields=TRADE_FIELDS, start_modified=low, end_modified=high, type=types,
                        page_no=page_no, page_size=PAGE_SIZE, use_has_next="true")
        return unwrap(body, "trades", "trade")

    return walk_backward(rng, count, page, PAGE_SIZE, env.task("orders"))
