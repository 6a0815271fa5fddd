"""Ocean Engine streams: ad reports (spend), the material library, crowd touch data.

* ``ad_reports``: ``GET v3.0/report/custom/get/`` by day, project and
  material (``stat_cost`` yuan, ``show_cnt``, ``click_cnt``), at most 30 days
  per query and 1000 rows per page. The channel comes from the project's
  ``ad_type`` (``ALL`` -> paid, ``SEARCH`` -> search), read once per run
  from ``v3.0/project/list/`` and joined onto each row as ``ad_type``.
* ``materials``: ``2/file/image/get/`` then ``2/file/video/get/``. Each
  file's ``url`` expires an hour after it was listed and its ``signature``
  is the MD5 of the file. The project a material runs in comes from
  ``v3.0/promotion/list/`` and is joined on as ``project_id``.
* ``touchpoints``: user-level crowd touch data (path configurable,
  ``touch_events_path``), cursor paging, at most 30 days per query.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.errors import InvalidInputError
from omniplug.fields import china_time_to_utc, exact_id, yuan
from omniplug.http import CursorPage, Page, PlatformClient
from omniplug_douyin.common import (
    PLATFORM,
    Phase,
    china_time,
    cursor_phase,
    date_chunks,
    date_span,
    numbered_phase,
    resume_window,
    time_chunks,
    walk_phases,
)
from omniplug_douyin.ocean import data_of, encode_params, list_all, page_of

__all__ = [
    "AD_TYPE_CHANNEL",
    "EVENT_TYPES",
    "REPORT_DIMENSIONS",
    "REPORT_METRICS",
    "TRAFFIC_SOURCES",
    "fetch_ad_reports",
    "fetch_materials",
    "fetch_touchpoints",
    "map_material",
    "map_report_row",
    "map_touch",
]

REPORT_DIMENSIONS = ("stat_time_day", "cdp_project_id", "material_id")
REPORT_METRICS = ("stat_cost", "show_cnt", "click_cnt")
#: Project ad_type -> canonical channel.
AD_TYPE_CHANNEL = {"ALL": "paid", "SEARCH": "search"}
LIST_PAGE_SIZE = 100
TOUCH_PAGE_SIZE = 100
#: Touch-data event codes -> canonical event types.
EVENT_TYPES = {"SHOW": "impression", "CLICK": "click", "PLAY": "video_view", "LIKE": "like", "COMMENT": "comment",
               "SHARE": "share", "FAVORITE": "favorite", "FOLLOW": "follow", "SEARCH": "search",
               "PRODUCT_VIEW": "product_view", "ADD_CART": "add_to_cart", "LIVE_WATCH": "live_view"}
#: Touch-data traffic sources -> canonical channels.
TRAFFIC_SOURCES = {"AD": "paid", "SEARCH_AD": "search", "STAR": "kol", "NATURAL": "organic", "LIVE": "live",
                   "PRIVATE_DOMAIN": "crm"}
_MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".mp4", ".mov")
_NO_MATERIAL = ("", "0", "-", "--")


def fetch_ad_reports(ctx: FetchContext, http: PlatformClient, advertiser_id: str, *, initial_days: int,
                     page_size: int) -> Iterator[pa.RecordBatch]:
    """Daily spend rows by project and material for the window, one batch per page."""
    window, position = resume_window(ctx, initial_days=initial_days)
    chunks = date_chunks(window)
    ad_types: dict[str, str] = {}
    if chunks:
        projects = list_all(http, "/open_api/v3.0/project/list/", {"advertiser_id": advertiser_id}, LIST_PAGE_SIZE)
        ad_types = {str(p["project_id"]): p.get("ad_type", "ALL") for p in projects}

    def phase(first: date, last: date) -> Phase:
        def fetch_page(page_no: int) -> Page[dict[str, Any]]:
            data = data_of(http.request_json("GET", "/open_api/v3.0/report/custom/get/", params=encode_params({
                "advertiser_id": advertiser_id, "data_topic": "BASIC_DATA", "dimensions": list(REPORT_DIMENSIONS),
                "metrics": list(REPORT_METRICS), "filters": [], "start_time": first.isoformat(),
                "end_time": last.isoformat(), "order_by": [{"field": "stat_time_day", "type": "ASC"}],
                "page": page_no, "page_size": page_size})))
            page = page_of(data, "rows")
            for row in page.items:
                row["ad_type"] = ad_types.get(str((row.get("dimensions") or {}).get("cdp_project_id")))
            return page
        return numbered_phase(fetch_page)

    phases = [(first.isoformat(), phase(first, last)) for first, last in chunks]
    yield from walk_phases(phases, position, base=window.cursor(), final={"watermark": window.end.isoformat()})


def fetch_materials(ctx: FetchContext, http: PlatformClient, advertiser_id: str) -> Iterator[pa.RecordBatch]:
    """Images then videos of the library uploaded since the last run (first run: all of it)."""
    window, position = resume_window(ctx, initial_days=0, from_epoch=True)
    projects: dict[str, Any] = {}
    if not window.empty:
        for promotion in list_all(http, "/open_api/v3.0/promotion/list/", {"advertiser_id": advertiser_id},
                                  LIST_PAGE_SIZE):
            for material_id in _promotion_material_ids(promotion):
                projects.setdefault(material_id, promotion.get("project_id"))
    dates: dict[str, str] = {}
    if not window.empty:
        first, last = date_span(window)
        dates = {"start_time": first.isoformat(), "end_time": last.isoformat()}

    def phase(kind: str) -> Phase:
        def fetch_page(page_no: int) -> Page[dict[str, Any]]:
            data = data_of(http.request_json("GET", f"/open_api/2/file/{kind}/get/", params=encode_params({
                "advertiser_id": advertiser_id, "filtering": dates, "page": page_no, "page_size": LIST_PAGE_SIZE})))
            page = page_of(data)
            for item in page.items:
                item["media_kind"] = kind
                item["project_id"] = projects.get(str(item.get("material_id")))
            return page
        return numbered_phase(fetch_page)

    phases = [] if window.empty else [(kind, phase(kind)) for kind in ("image", "video")]
    yield from walk_phases(phases, position, base=window.cursor(), final={"watermark": window.end.isoformat()})


def _promotion_material_ids(promotion: dict[str, Any]) -> list[str]:
    materials = promotion.get("promotion_materials") or {}
    found = [str(v["material_id"]) for v in materials.get("video_material_list") or []]
    for group in materials.get("image_material_list") or []:
        found.extend(str(i["material_id"]) for i in group.get("images") or [])
    return found


def fetch_touchpoints(ctx: FetchContext, http: PlatformClient, advertiser_id: str, *, path: str,
                      initial_days: int) -> Iterator[pa.RecordBatch]:
    """User-level touch events of the window (at most 30 days per query), cursor paging."""
    window, position = resume_window(ctx, initial_days=initial_days)

    def phase(start: str, end: str) -> Phase:
        def fetch(cursor: Any) -> CursorPage[dict[str, Any]]:
            data = data_of(http.request_json("GET", path, params=encode_params({
                "advertiser_id": advertiser_id, "start_time": start, "end_time": end, "cursor": cursor,
                "count": TOUCH_PAGE_SIZE})))
            info = data.get("page_info") or {}
            return CursorPage(items=list(data.get("list") or []), next_cursor=info.get("cursor"),
                              has_more=bool(info.get("has_more")))
        return cursor_phase(fetch)

    phases = [(chunk.start.isoformat(), phase(china_time(chunk.start), china_time(chunk.end)))
              for chunk in time_chunks(window)]
    yield from walk_phases(phases, position, base=window.cursor(), final={"watermark": window.end.isoformat()})


# -- normalise -------------------------------------------------------------------


def _optional_id(value: Any) -> str | None:
    if value is None or str(value).strip() in _NO_MATERIAL:
        return None
    return exact_id(value)


def _lookup(table: dict[str, str], value: Any, what: str) -> str:
    if value not in table:
        raise InvalidInputError(f"unknown {what} {value!r}; known: {', '.join(sorted(table))}")
    return table[value]


def map_report_row(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One report row -> one spend row (channel from the project's ad_type)."""
    dims, metrics = rec["dimensions"], rec["metrics"]
    if rec.get("ad_type") is None:
        raise InvalidInputError(
            f"project {dims.get('cdp_project_id')} is not in the project list: its channel is unknown")
    return {"spend": [{
        "date": date.fromisoformat(dims["stat_time_day"]), "platform": PLATFORM,
        "channel": _lookup(AD_TYPE_CHANNEL, rec["ad_type"], "project ad_type"),
        "campaign_id": exact_id(dims["cdp_project_id"]), "kol_id": None,
        "material_id": _optional_id(dims.get("material_id")), "spend": yuan(metrics["stat_cost"]),
        "impressions": int(metrics["show_cnt"]), "clicks": int(metrics["click_cnt"]),
    }]}


def _title(filename: str | None) -> str | None:
    if not filename:
        return None
    lower = filename.lower()
    return filename[: -len(s)] if (s := next((s for s in _MEDIA_SUFFIXES if lower.endswith(s)), "")) else filename


def map_material(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One library file (image or video) -> one material row; ``uri`` is its (expiring) preview URL."""
    return {"materials": [{
        "material_id": exact_id(rec["material_id"]), "platform": PLATFORM,
        "media_type": _lookup({"image": "image", "video": "video"}, rec["media_kind"], "media kind"),
        "uri": rec["url"], "title": _title(rec.get("filename")), "campaign_id": _optional_id(rec.get("project_id")),
        "kol_id": _optional_id(rec.get("star_author_id")), "created_at": china_time_to_utc(rec["create_time"]),
    }]}


def map_touch(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One crowd touch event -> one touchpoint of the user's open_id."""
    return {"touchpoints": [{
        "event_id": exact_id(rec["event_id"]), "platform": PLATFORM, "id_type": "douyin_openid",
        "id_value": rec["open_id"], "event_time": china_time_to_utc(rec["event_time"]),
        "event_type": _lookup(EVENT_TYPES, rec["event_type"], "event_type"),
        "channel": _lookup(TRAFFIC_SOURCES, rec["traffic_source"], "traffic_source"),
        "campaign_id": _optional_id(rec.get("project_id")), "kol_id": _optional_id(rec.get("star_author_id")),
        "material_id": _optional_id(rec.get("material_id")), "product_id": _optional_id(rec.get("product_id")),
    }]}
