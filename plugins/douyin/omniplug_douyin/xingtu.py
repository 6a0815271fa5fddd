"""Xingtu (星图), Douyin's KOL marketplace, through the Ocean Engine Marketing API.

The stream walks the star account's demands (``2/star/demand/list/``), the
orders of each demand (``2/star/demand/order/list/``, at most 50 per page)
and, per order, its post-campaign report
(``2/star/report/order_overview/get/``), joined onto the order as
``report``. Amounts are in fen (``cost_effectiveness.price``); rates such as
``convert.ctr`` are percentages times 100 (``235`` = 2.35 %) and are not
used: the canonical tables take the counts (``convert.show``, ``convert.click``).

Each order yields one ``spend`` row (channel ``kol``, dated on the China day
the video was released) and one ``materials`` row for the KOL's video
(``item_id``, the Douyin post, is its material id). Reports change as a
video keeps being watched, so a finished walk starts over on the next run;
the primary keys replace the older figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.fields import CHINA_TZ, china_time_to_utc, exact_id, fen_to_yuan
from omniplug.http import Page, PlatformClient
from omniplug_douyin.common import PLATFORM, Phase, now_of, numbered_phase, walk_phases
from omniplug_douyin.ocean import data_of, encode_params, list_all, page_of

__all__ = ["ORDER_PAGE_SIZE", "fetch_xingtu_orders", "map_star_order"]

#: The order list answers at most 50 per page.
ORDER_PAGE_SIZE = 50
DEMAND_PAGE_SIZE = 20


def fetch_xingtu_orders(ctx: FetchContext, http: PlatformClient, star_id: str) -> Iterator[pa.RecordBatch]:
    """Every order of every demand with its report; one batch per order page."""
    cursor = ctx.cursor or {}
    position = dict(cursor.get("position") or {}) if ctx.since is None else {}
    demands = list_all(http, "/open_api/2/star/demand/list/", {"star_id": star_id}, DEMAND_PAGE_SIZE)
    demands.sort(key=lambda d: int(d["demand_id"]))

    def phase(demand_id: Any) -> Phase:
        def fetch_page(page_no: int) -> Page[dict[str, Any]]:
            data = data_of(http.request_json("GET", "/open_api/2/star/demand/order/list/", params=encode_params({
                "star_id": star_id, "demand_id": demand_id, "page": page_no, "page_size": ORDER_PAGE_SIZE})))
            page = page_of(data)
            for order in page.items:
                order["report"] = data_of(http.request_json(
                    "GET", "/open_api/2/star/report/order_overview/get/",
                    params=encode_params({"star_id": star_id, "order_id": order["order_id"]})))
            return page
        return numbered_phase(fetch_page)

    phases = [(str(d["demand_id"]), phase(d["demand_id"])) for d in demands]
    yield from walk_phases(phases, position, base={}, final={"completed_at": now_of(ctx).isoformat()})


def map_star_order(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One Xingtu order with its report -> a ``kol`` spend row and the KOL video's material row."""
    report = rec["report"]
    kol_id = exact_id(rec["author_id"])
    material_id = exact_id(rec["item_id"])
    released = china_time_to_utc(rec["release_time"])
    convert = report["convert"]
    return {
        "spend": [{"date": released.astimezone(CHINA_TZ).date(), "platform": PLATFORM, "channel": "kol",
                   "campaign_id": None, "kol_id": kol_id, "material_id": material_id,
                   "spend": fen_to_yuan(report["cost_effectiveness"]["price"]),
                   "impressions": int(convert["show"]), "clicks": int(convert["click"])}],
        "materials": [{"material_id": material_id, "platform": PLATFORM, "media_type": "video",
                       "uri": rec.get("video_url"), "title": rec.get("title"), "campaign_id": None,
                       "kol_id": kol_id, "created_at": china_time_to_utc(rec["create_time"])}],
    }
