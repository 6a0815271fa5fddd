"""Back-office exports of ad spend: the files brands download from 超级粉丝通 by hand.

Two reports, as CSV or XLSX with the Chinese headers of the back office
(column names unconfirmed against a real download; unknown extra columns
are ignored):

* 粉丝通 creative daily report: 日期, 计划ID, 计划名称, 博文ID, 消耗(元), 曝光量, 点击量
* 微任务 KOL orders: 订单ID, 发布日期, 博主UID, 博主昵称, 博文ID, 订单金额(元), 阅读数, 互动数

Each row becomes the same raw record the ads API returns, so the import
goes through the ``ad_reports`` normalise. Ids are read as text: a long id
saved as an Excel number has already lost digits, and normalise rejects it.
Reading the files (UTF-8 or GB18030 CSV, XLSX) is :mod:`omniplug.exports`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.exports import day_text, export_batches, read_export_rows

__all__ = ["CREATIVE_HEADERS", "KOL_HEADERS", "read_ad_report_export"]

#: 粉丝通 creative daily report: Chinese header -> API field.
CREATIVE_HEADERS = {
    "日期": "date", "计划ID": "campaign_id", "计划名称": "campaign_name", "博文ID": "mid",
    "消耗(元)": "cost", "曝光量": "impression", "点击量": "click",
}
#: 微任务 KOL orders: Chinese header -> API field.
KOL_HEADERS = {
    "订单ID": "order_id", "发布日期": "publish_date", "博主UID": "kol_uid", "博主昵称": "kol_name",
    "博文ID": "mid", "订单金额(元)": "price", "阅读数": "read_count", "互动数": "interact_count",
}
_OPTIONAL = {"计划名称", "博主昵称"}
_DAYS = ("date", "publish_date")


def _read(path: Path, headers: dict[str, str], kind: str) -> Iterator[dict[str, Any]]:
    return read_export_rows(path, headers=headers, required=[h for h in headers if h not in _OPTIONAL], kind=kind)


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of either report, told apart by their headers."""
    kol = _read(path, KOL_HEADERS, "a 微任务 KOL order export")
    try:
        first = next(kol, None)
    except InvalidInputError:
        # Not KOL orders, so it must be the creative report; the error then names its missing columns.
        yield from _read(path, CREATIVE_HEADERS, "a 粉丝通 creative report or a 微任务 KOL order export "
                                                  f"(whose headers are {', '.join(KOL_HEADERS)})")
        return
    if first is not None:
        yield first
        yield from kol


def read_ad_report_export(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 粉丝通 or 微任务 export (``.csv`` or ``.xlsx``) into raw ``ad_reports`` batches."""
    # Excel keeps a date column as date-times at midnight: the reports mean the day.
    return export_batches({k: day_text(v) if k in _DAYS else v for k, v in row.items()} for row in _rows(path))
