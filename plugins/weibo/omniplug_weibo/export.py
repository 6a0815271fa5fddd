"""Back-office exports of ad spend: the files brands download from 超级粉丝通 by hand.

Two reports, as CSV or XLSX with the Chinese headers of the back office
(column names unconfirmed against a real download; unknown extra columns
are ignored):

* 粉丝通 creative daily report: 日期, 计划ID, 计划名称, 博文ID, 消耗(元), 曝光量, 点击量
* 微任务 KOL orders: 订单ID, 发布日期, 博主UID, 博主昵称, 博文ID, 订单金额(元), 阅读数, 互动数

Each row becomes the same raw record the ads API returns, so the import
goes through the ``ad_reports`` normalise. Ids are read as text: a long id
saved as an Excel number has already lost digits, and normalise rejects it.
CSV files may be UTF-8 (with or without BOM) or GB18030, as Excel on a
Chinese Windows saves them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug_weibo.walks import raw_batch

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
BATCH_ROWS = 1000


def _read_csv(path: Path) -> list[list[Any]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    raise InvalidInputError(f"{path.name}: neither UTF-8 nor GB18030 text")


def _read_xlsx(path: Path) -> list[list[Any]]:
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # an optional dependency: CSV works without it
        raise InvalidInputError(f"{path.name}: reading XLSX needs openpyxl (pip install openpyxl)") from exc
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    finally:
        book.close()
    return [row for row in rows if any(cell not in (None, "") for cell in row)]


def _header_map(header: Sequence[Any], path: Path) -> dict[int, str]:
    names = [str(h).strip() if h is not None else "" for h in header]
    for known in (KOL_HEADERS, CREATIVE_HEADERS):  # KOL first: both have 博文ID
        required = [h for h in known if h not in ("计划名称", "博主昵称")]
        if all(h in names for h in required):
            return {i: known[name] for i, name in enumerate(names) if name in known}
    raise InvalidInputError(
        f"{path.name}: not a 粉丝通 or 微任务 export; expected the headers "
        f"{', '.join(CREATIVE_HEADERS)} or {', '.join(KOL_HEADERS)}, found {', '.join(names)}"
    )


def _cell(value: Any) -> Any:
    if isinstance(value, (datetime, date)):  # an Excel date cell
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def read_ad_report_export(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 粉丝通 or 微任务 export (``.csv`` or ``.xlsx``) into raw ``ad_reports`` batches."""
    rows = _read_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _read_csv(path)
    if not rows:
        raise InvalidInputError(f"{path.name}: the file is empty")
    columns = _header_map(rows[0], path)
    records = [{field: _cell(row[i]) if i < len(row) else None for i, field in columns.items()} for row in rows[1:]]
    for start in range(0, len(records), BATCH_ROWS):
        yield raw_batch(records[start:start + BATCH_ROWS])
