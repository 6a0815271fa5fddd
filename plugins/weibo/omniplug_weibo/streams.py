"""The fetch loops of the Weibo streams: which endpoints, in which order, with which cursor.

* ``statuses``: ``GET /2/statuses/user_timeline.json`` of the brand account,
  walked by since_id/max_id; each post gets ``fst_campaign_id`` from the
  粉丝通 creative list (the ads host knows which promoted post belongs to
  which campaign, the timeline does not).
* ``engagements``: for each brand post, ``GET /2/comments/show.json`` and
  ``GET /2/statuses/repost_timeline.json`` walked by since_id/max_id; then
  the ads host's interaction records (exposures and likes, which the open
  API does not list per user).
* ``ad_reports``: the ads host's 粉丝通 creative daily report and 微任务 KOL
  orders by date window and page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.fields import CHINA_TZ
from omniplug.http import Page, PlatformClient, paginate_pages
from omniplug.rowmap import records_batch
from omniplug_weibo.walks import Timeline, walk_timelines

__all__ = ["ADS_PATHS", "fetch_ad_reports", "fetch_engagements", "fetch_statuses"]

#: The ads host's endpoints (simulated; the real 超级粉丝通 API paths are not public to us).
ADS_PATHS = {
    "creatives": "/v3/creatives",
    "creative_report": "/v3/reports/creative_daily",
    "kol_orders": "/v3/kol/orders",
    "interactions": "/v3/reports/interactions",
}
#: Report kinds of ad_reports, in fetch order, with their page size (the ads host allows up to 100).
REPORTS = (("creative_report", 100), ("kol_orders", 100))
REPORTS_ORDER = {kind: index for index, (kind, _) in enumerate(REPORTS)}
#: The longest date span one report request may cover (days, both ends included).
MAX_REPORT_DAYS = 31
ADS_PAGE_SIZE = 100
INTERACTIONS_COUNT = 500

Record = dict[str, Any]


def _ads_data(ads: PlatformClient, path: str, params: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = ads.request_json("GET", path, params=params)["data"]
    return data


def _ads_page(ads: PlatformClient, path: str, params: dict[str, Any], page_no: int, size: int) -> Page[Record]:
    data = _ads_data(ads, path, {**params, "page": page_no, "page_size": size})
    info = data.get("page_info") or {}
    total = info.get("total_number")
    return Page(items=list(data.get("list") or []), total=int(total) if total is not None else None)


def _campaigns_of_posts(ads: PlatformClient) -> dict[str, Any]:
    """``{post id: campaign id}`` from the 粉丝通 creative list (every page)."""
    found: dict[str, Any] = {}
    pages = paginate_pages(lambda n: _ads_page(ads, ADS_PATHS["creatives"], {}, n, ADS_PAGE_SIZE), platform="weibo")
    for page in pages:
        for creative in page.items:
            if creative.get("mid") is not None:
                found[str(creative["mid"])] = creative["campaign_id"]
    return found


def _timeline_fetch(api: PlatformClient, uid: str, count: int) -> Callable[[int, int | None], list[Record]]:
    def fetch(since_id: int, max_id: int | None) -> list[Record]:
        params: dict[str, Any] = {"uid": uid, "count": count, "page": 1}
        if since_id:
            params["since_id"] = since_id
        if max_id is not None:
            params["max_id"] = max_id
        return list(api.request_json("GET", "/2/statuses/user_timeline.json", params=params)["statuses"])

    return fetch


def fetch_statuses(ctx: FetchContext, api: PlatformClient, ads: PlatformClient) -> Iterator[pa.RecordBatch]:
    """The brand's posts, newest first, one batch per page, each post tagged with its 粉丝通 campaign."""
    cfg: Any = ctx.config
    campaigns = _campaigns_of_posts(ads)
    fetch = _timeline_fetch(api, cfg.uid, cfg.statuses_count)

    def tagged(since_id: int, max_id: int | None) -> list[Record]:
        posts = fetch(since_id, max_id)
        for post in posts:
            post["fst_campaign_id"] = campaigns.get(str(post.get("id")))
        return posts

    yield from walk_timelines([Timeline("timeline", tagged)], ctx.cursor, since=ctx.since, until=ctx.until)


def _engaged_posts(api: PlatformClient, uid: str, count: int) -> list[tuple[int, int, int]]:
    """``(post id, comments_count, reposts_count)`` of every post of the brand's timeline."""
    timeline = Timeline("timeline", _timeline_fetch(api, uid, count))
    posts: list[tuple[int, int, int]] = []
    for batch in walk_timelines([timeline], None):
        for post in batch.select([n for n in ("id", "comments_count", "reposts_count") if n in batch.schema.names]
                                 ).to_pylist():
            posts.append((int(post["id"]), int(post.get("comments_count") or 0), int(post.get("reposts_count") or 0)))
    return sorted(posts)


def _engagement_fetch(
    client: PlatformClient, path: str, key: str, params: dict[str, Any],
) -> Callable[[int, int | None], list[Record]]:
    def fetch(since_id: int, max_id: int | None) -> list[Record]:
        query = dict(params)
        if since_id:
            query["since_id"] = since_id
        if max_id is not None:
            query["max_id"] = max_id
        body = client.request_json("GET", path, params=query)
        if key == "list":  # the ads host's envelope
            return list((body.get("data") or {}).get("list") or [])
        return list(body[key])

    return fetch


def fetch_engagements(ctx: FetchContext, api: PlatformClient, ads: PlatformClient) -> Iterator[pa.RecordBatch]:
    """Comments and reposts of every brand post, then exposures and likes, one batch per page."""
    cfg: Any = ctx.config
    count = cfg.engagements_count
    timelines: list[Timeline] = []
    # A post nobody commented on (or reposted) is not walked: the hourly quota is precious.
    for post_id, comments, reposts in _engaged_posts(api, cfg.uid, cfg.statuses_count):
        if comments:
            timelines.append(Timeline(f"comments:{post_id}", _engagement_fetch(
                api, "/2/comments/show.json", "comments", {"id": post_id, "count": count, "page": 1})))
        if reposts:
            timelines.append(Timeline(f"reposts:{post_id}", _engagement_fetch(
                api, "/2/statuses/repost_timeline.json", "reposts", {"id": post_id, "count": count, "page": 1})))
    timelines.append(Timeline("interactions", _engagement_fetch(
        ads, ADS_PATHS["interactions"], "list", {"count": INTERACTIONS_COUNT}), time_field="time"))
    yield from walk_timelines(timelines, ctx.cursor, since=ctx.since, until=ctx.until)


def _china_date(dt: datetime) -> date:
    return dt.astimezone(CHINA_TZ).date()


def _report_window(ctx: FetchContext, now: datetime) -> tuple[date, date]:
    """The dates (both included) to fetch: explicit, resumed, after the watermark, or the first run's."""
    cfg: Any = ctx.config
    cursor = ctx.cursor or {}
    if ctx.since is not None:
        end = (ctx.until or now) - timedelta(milliseconds=1)
        return _china_date(ctx.since), _china_date(end)
    if "window" in cursor:
        first, last = cursor["window"]
        return date.fromisoformat(first), date.fromisoformat(last)
    if "watermark" in cursor:
        # The last day fetched is fetched again: its figures change until the day closes.
        return date.fromisoformat(cursor["watermark"]), _china_date(now)
    return _china_date(now - timedelta(days=cfg.initial_days)), _china_date(now)


def _report_pages(ads: PlatformClient, path: str, size: int, first: date, last: date) -> Callable[[int], Page[Record]]:
    params = {"start_date": first.isoformat(), "end_date": last.isoformat()}
    return lambda page_no: _ads_page(ads, path, params, page_no, size)


def fetch_ad_reports(ctx: FetchContext, ads: PlatformClient, now: datetime) -> Iterator[pa.RecordBatch]:
    """Creative-day spend and KOL orders over the window, in chunks of 31 days, one batch per page."""
    first, last = _report_window(ctx, now)
    cursor: dict[str, Any] = (ctx.cursor or {}) if ctx.since is None else {}
    resumed = "window" in cursor
    start_at = (cursor["chunk"], REPORTS_ORDER[cursor["report"]]) if resumed else ("", 0)
    window = [first.isoformat(), last.isoformat()]
    chunk = first
    while chunk <= last:
        chunk_end = min(last, chunk + timedelta(days=MAX_REPORT_DAYS - 1))
        for kind, size in REPORTS:
            position = (chunk.isoformat(), REPORTS_ORDER[kind])
            if position < start_at:
                continue  # done before the interruption
            at_resume = resumed and position == start_at
            pages = paginate_pages(
                _report_pages(ads, ADS_PATHS[kind], size, chunk, chunk_end),
                first_page=cursor["next_page"] if at_resume else 1,
                collected=cursor["collected"] if at_resume else 0, platform="weibo",
            )
            for page in pages:
                state = {"window": window, "chunk": chunk.isoformat(), "report": kind,
                         "next_page": page.next_page_no, "collected": page.collected}
                yield with_cursor(records_batch(page.items), state)
        chunk = chunk_end + timedelta(days=1)
    yield with_cursor(records_batch([]), {"watermark": last.isoformat()})

