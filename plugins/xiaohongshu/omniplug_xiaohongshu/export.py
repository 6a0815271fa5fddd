"""Back-office export files (CSV or XLSX with Chinese headers) read as raw API records.

Brands often download these by hand instead of calling the API:

* ``ad_reports``: the Juguang creative report (聚光 数据报表 - 创意, 分天);
* ``kol_notes``: the Pugongying post-campaign note data (蒲公英 投后数据 - 笔记);
* ``shop_orders``: the Ark order export (订单导出), one row per SKU line.

Each reader turns the rows into records with the API's field names and
units (fen for Ark and Pugongying amounts, ms epochs for Ark times), so the
same ``normalise`` handles fetched and imported data. Exports write yuan
amounts (``(元)``) and China wall-clock times; CSV files may be UTF-8 (with or
without BOM) or GB18030, as Excel on a Chinese Windows saves them. A title
line above the header row is skipped. Receiver phones in an export are often
masked (``138****8000``): such rows give orders but no identity link.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.fields import china_time_to_utc
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.streams.walk import raw_batch

__all__ = [
    "AD_REPORT_HEADERS",
    "KOL_NOTE_HEADERS",
    "ORDER_HEADERS",
    "read_ad_reports",
    "read_kol_notes",
    "read_rows",
    "read_shop_orders",
]

BATCH_ROWS = 1000
_HEADER_SEARCH_ROWS = 5

#: Juguang creative report column -> API field.
AD_REPORT_HEADERS = {"时间": "time", "计划ID": "campaign_id", "计划名称": "campaign_name", "单元ID": "unit_id",
                     "创意ID": "creativity_id", "笔记ID": "note_id", "广告类型": "placement", "消费(元)": "fee",
                     "展现量": "impression", "点击量": "click"}
#: Pugongying note data column -> API field.
KOL_NOTE_HEADERS = {"数据更新日期": "date_key", "笔记ID": "note_id", "笔记标题": "note_title", "笔记类型": "note_type",
                    "笔记创建时间": "note_create_time", "笔记发布时间": "note_publish_time", "博主ID": "kol_id",
                    "博主昵称": "kol_nick_name", "博主报价(元)": "kol_price", "曝光量": "imp_num", "阅读量": "read_num",
                    "点赞量": "like_num", "收藏量": "fav_num", "评论量": "cmt_num", "分享量": "share_num",
                    "正文组件点击量": "content_comp_click_num"}
#: Ark order export column -> API field (order-level and SKU-level columns).
ORDER_HEADERS = {"订单号": "orderId", "订单状态": "orderStatus", "下单时间": "createdTime", "支付时间": "paidTime",
                 "更新时间": "updateTime", "用户ID": "userId", "订单实付金额(元)": "totalPayAmount",
                 "收件人手机号": "receiverPhone", "商品ID": "skuId", "商品名称": "skuName", "商品数量": "skuQuantity",
                 "商品实付金额(元)": "totalPaidAmount"}
_OPTIONAL = {"campaign_name", "unit_id", "creativity_id", "note_id", "date_key", "kol_nick_name", "read_num",
             "like_num", "fav_num", "cmt_num", "share_num", "content_comp_click_num", "paidTime", "updateTime",
             "receiverPhone", "skuName"}


# -- reading rows -------------------------------------------------------------------


def read_rows(path: Path, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Rows of a CSV/XLSX export as ``{api_field: cell}``, located by their Chinese header row."""
    rows = _xlsx_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    required = {h for h, field in headers.items() if field not in _OPTIONAL}
    columns: list[str | None] | None = None
    for index, row in enumerate(rows):
        if columns is None:
            cells = [_text(c) for c in row]
            if required <= set(cells):
                columns = [headers.get(c or "") for c in cells]
            elif index >= _HEADER_SEARCH_ROWS:
                break
            continue
        if all(_text(c) is None for c in row):
            continue
        yield {field: cell for field, cell in zip(columns, row, strict=False) if field is not None}
    if columns is None:
        raise InvalidInputError(f"{path.name}: no header row with the columns {sorted(required)} in the first "
                                f"{_HEADER_SEARCH_ROWS + 1} rows; is this the right export?")


def _csv_rows(path: Path) -> Iterable[list[Any]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInputError(f"{path.name}: not UTF-8 or GB18030 text; save the export as CSV (UTF-8)")
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(path: Path) -> Iterable[list[Any]]:
    from openpyxl import load_workbook  # only needed for XLSX imports

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _text(cell: Any) -> str | None:
    """A cell as text: numbers without a spurious ``.0``, datetimes as China wall time."""
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(cell, date):
        return cell.strftime("%Y-%m-%d")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    text = str(cell).strip()
    return text or None


def _int(cell: Any, what: str) -> int:
    text = _text(cell)
    try:
        number = Decimal(text or "")
    except InvalidOperation:
        raise InvalidInputError(f"{what} {cell!r} is not a number") from None
    if number != number.to_integral_value():
        raise InvalidInputError(f"{what} {cell!r} is not a whole number")
    return int(number)


def _fen(cell: Any, what: str) -> int:
    """A yuan amount from an export as whole fen (exact; more than 2 decimals is refused)."""
    text = _text(cell)
    try:
        fen = Decimal(text or "") * 100
    except InvalidOperation:
        raise InvalidInputError(f"{what} {cell!r} is not an amount in yuan") from None
    if fen != fen.to_integral_value():
        raise InvalidInputError(f"{what} {cell!r} has more than 2 decimal places")
    return int(fen)


def _ms(cell: Any, what: str) -> int | None:
    """A China wall-clock time cell as epoch milliseconds (Ark's unit)."""
    text = _text(cell)
    return None if text is None else int(china_time_to_utc(text).timestamp() * 1000)


def _keep_bad(convert: Any, cell: Any, what: str) -> Any:
    """Convert a cell; an unreadable value is passed on as text so normalise rejects that record alone."""
    try:
        return convert(cell, what)
    except InvalidInputError:
        return _text(cell)


def _batches(records: Iterable[dict[str, Any]]) -> Iterator[pa.RecordBatch]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= BATCH_ROWS:
            yield raw_batch(chunk)
            chunk = []
    if chunk:
        yield raw_batch(chunk)


# -- the readers ------------------------------------------------------------------------


def read_ad_reports(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a Juguang creative report export (分天) as ``ad_reports`` records."""
    labels = codes.inverse(codes.PLACEMENT_LABELS)

    def record(row: dict[str, Any]) -> dict[str, Any]:
        placement = _text(row.get("placement"))
        return {
            "time": _text(row.get("time")), "campaign_id": _text(row.get("campaign_id")),
            "campaign_name": _text(row.get("campaign_name")), "unit_id": _text(row.get("unit_id")),
            "creativity_id": _text(row.get("creativity_id")), "note_id": _text(row.get("note_id")),
            "placement": labels.get(placement or "", placement), "fee": _text(row.get("fee")),
            "impression": _keep_bad(_int, row.get("impression"), "展现量"),
            "click": _keep_bad(_int, row.get("click"), "点击量"),
        }

    return _batches(record(row) for row in read_rows(path, AD_REPORT_HEADERS))


def read_kol_notes(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a Pugongying note data export as ``kol_notes`` records (博主报价 yuan -> fen)."""
    labels = codes.inverse(codes.NOTE_TYPE_LABELS)

    def record(row: dict[str, Any]) -> dict[str, Any]:
        note_type = _text(row.get("note_type"))
        out: dict[str, Any] = {
            "date_key": _text(row.get("date_key")), "note_id": _text(row.get("note_id")),
            "note_title": _text(row.get("note_title")), "note_type": labels.get(note_type or "", note_type),
            "note_create_time": _text(row.get("note_create_time")),
            "note_publish_time": _text(row.get("note_publish_time")), "kol_id": _text(row.get("kol_id")),
            "kol_nick_name": _text(row.get("kol_nick_name")),
            "kol_price": _keep_bad(_fen, row.get("kol_price"), "博主报价(元)"),
        }
        for field in ("imp_num", "read_num", "like_num", "fav_num", "cmt_num", "share_num", "content_comp_click_num"):
            if _text(row.get(field)) is not None:
                out[field] = _keep_bad(_int, row.get(field), field)
        return out

    return _batches(record(row) for row in read_rows(path, KOL_NOTE_HEADERS))


def read_shop_orders(path: Path) -> Iterator[pa.RecordBatch]:
    """Read an Ark order export (one row per SKU line) as ``shop_orders`` records, lines regrouped."""
    labels = codes.inverse(codes.ARK_STATUS_LABELS)
    orders: dict[str, dict[str, Any]] = {}
    for row in read_rows(path, ORDER_HEADERS):
        order_id = _text(row.get("orderId")) or ""
        order = orders.get(order_id)
        if order is None:
            status = _text(row.get("orderStatus"))
            order = orders[order_id] = {
                "orderId": order_id, "orderStatus": labels.get(status or "", status),
                "createdTime": _keep_bad(_ms, row.get("createdTime"), "下单时间"),
                "paidTime": _keep_bad(_ms, row.get("paidTime"), "支付时间"),
                "updateTime": _keep_bad(_ms, row.get("updateTime"), "更新时间"),
                "userId": _text(row.get("userId")),
                "totalPayAmount": _keep_bad(_fen, row.get("totalPayAmount"), "订单实付金额(元)"),
                "receiverPhone": _text(row.get("receiverPhone")), "skuList": [],
            }
        order["skuList"].append({
            "skuId": _text(row.get("skuId")), "skuName": _text(row.get("skuName")),
            "skuQuantity": _keep_bad(_int, row.get("skuQuantity"), "商品数量"),
            "totalPaidAmount": _keep_bad(_fen, row.get("totalPaidAmount"), "商品实付金额(元)"),
        })
    return _batches(orders.values())
