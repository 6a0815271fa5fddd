"""JD back-office export files (CSV or XLSX with Chinese headers) <-> raw records.

Brands download three reports by hand: the order list of 商家后台 (one row
per order line), the 京准通 report, and the 数坊 crowd behaviour detail.
The readers turn each into the records the gateway would have returned (same
field names, same codes), so :mod:`omniplug_jd.normalise` handles both. The
writers do the inverse; tests and demos use them to make export files from
the simulated world.

CSV files are read as UTF-8 (with or without BOM) or, failing that, GB18030
(Excel in China saves GBK). XLSX needs ``openpyxl``. Ids are kept as text:
an id cell Excel stored as a number is refused by normalise, because above
2**53 its digits are already lost.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.rowmap import records_batch

__all__ = ["HEADERS", "read_ad_reports", "read_orders", "read_touchpoints", "write_export"]

BATCH_ROWS = 1000
Record = dict[str, Any]

#: Chinese header -> raw field, per stream. Order headers prefixed ``item.`` belong to the line.
HEADERS: dict[str, dict[str, str]] = {
    "orders": {"订单号": "orderId", "下单帐号": "pin", "下单时间": "orderStartTime",
               "订单状态": "orderState",
               "订单金额": "orderTotalPrice", "商家优惠": "sellerDiscount", "应付金额": "orderSellerPrice",
               "商品ID": "item.skuId", "商家SKU": "item.outerSkuId", "商品名称": "item.skuName",
               "京东价": "item.jdPrice", "订购数量": "item.itemTotal", "单品优惠": "item.sellerDiscount"},
    "ad_reports": {"日期": "date", "计划ID": "campaignId", "计划名称": "campaignName",
                   "计划类型": "campaignType",
                   "创意ID": "adId", "创意名称": "adName", "展现数": "impressions", "点击数": "clicks",
                   "总花费": "cost"},
    "touchpoints": {"事件ID": "eventId", "用户PIN": "pin", "行为时间": "eventTime",
                    "行为类型": "behaviorType", "流量来源": "trafficSource", "计划ID": "campaignId",
                    "创意ID": "creativeId", "商品SKU": "skuId"},
}
#: Labels the back office shows -> the codes the API sends.
LABELS: dict[str, dict[str, Any]] = {
    "orderState": {"等待出库": "WAIT_SELLER_STOCK_OUT", "等待发货": "WAIT_SELLER_DELIVERY",
                   "等待确认收货": "WAIT_GOODS_RECEIVE_CONFIRM", "完成": "FINISHED_L", "暂停": "PAUSE",
                   "锁定": "LOCKED", "已取消": "TRADE_CANCELED"},
    "campaignType": {"推荐": 1, "搜索": 2},
    "behaviorType": {"曝光": "expose", "点击": "click", "搜索": "search", "浏览": "browse", "加购": "cart"},
    "trafficSource": {"广告": "ad", "搜索": "search", "自然": "natural"},
}


def _cell(value: Any) -> Any:
    """An XLSX/CSV cell as the API would send it: blanks are null, dates are text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value.strip() if isinstance(value, str) else value


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        yield from (list(line) for line in book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInputError(f"{path.name}: neither UTF-8 nor GB18030 text")
    yield from csv.reader(io.StringIO(text))


def _rows(path: Path, stream: str) -> Iterator[dict[str, Any]]:
    """The data rows of a CSV or XLSX export as ``{header: cell}``, after checking its header row."""
    lines = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    header = [str(h).strip() if h is not None else "" for h in next(lines, [])]
    missing = [h for h in HEADERS[stream] if h not in header]
    if missing:
        raise InvalidInputError(f"{path.name} is not a JD {stream} export: missing columns {', '.join(missing)}")
    for line in lines:
        cells = [_cell(c) for c in line]
        if any(c is not None for c in cells):
            # Spreadsheet rows may stop at their last filled cell.
            yield dict(zip(header, cells + [None] * (len(header) - len(cells)), strict=False))


def _record(stream: str, row: dict[str, Any]) -> Record:
    out: Record = {}
    for header, field in HEADERS[stream].items():
        value = row.get(header)
        labels = LABELS.get(field.removeprefix("item."))
        # An unknown label passes through: normalise rejects that one record with the reason.
        out[field] = labels.get(value, value) if labels and value is not None else value
    return out


def _batches(records: Iterable[Record]) -> Iterator[pa.RecordBatch]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == BATCH_ROWS:
            yield records_batch(chunk)
            chunk = []
    if chunk:
        yield records_batch(chunk)


def _flat(path: Path, stream: str) -> Iterator[Record]:
    return (_record(stream, row) for row in _rows(path, stream))


def read_ad_reports(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 京准通 report export (日期, 计划ID, 创意ID, 展现数, 点击数, 总花费, ...)."""
    return _batches(_flat(path, "ad_reports"))


def read_touchpoints(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 数坊 crowd behaviour export (事件ID, 用户PIN, 行为时间, 行为类型, 流量来源, ...)."""
    return _batches(_flat(path, "touchpoints"))


def read_orders(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 商家后台 order export (one row per order line) into ``orderInfo`` records."""
    orders: dict[Any, Record] = {}
    for flat in _flat(path, "orders"):
        order = orders.setdefault(flat["orderId"], {k: v for k, v in flat.items() if not k.startswith("item.")}
                                  | {"itemInfoList": []})
        order["itemInfoList"].append({k.removeprefix("item."): v for k, v in flat.items() if k.startswith("item.")})
    return _batches(orders.values())


def _flat_rows(stream: str, records: Iterable[Record]) -> Iterator[Record]:
    """API-shaped records -> export rows (field names), orders exploded to one row per line."""
    for record in records:
        if stream == "orders":
            head = {k: v for k, v in record.items() if k != "itemInfoList"}
            for item in record["itemInfoList"]:
                yield head | {f"item.{k}": v for k, v in item.items()}
        else:
            yield record


def write_export(stream: str, records: Iterable[Record], path: Path, *, encoding: str = "utf-8-sig") -> Path:
    """Write API-shaped ``records`` of ``stream`` as JD's export file (``.csv`` or ``.xlsx``, by suffix).

    Every cell is written as text, as the back office does for ids.
    """
    headers = HEADERS[stream]
    reverse = {field: {code: label for label, code in labels.items()} for field, labels in LABELS.items()}
    table: list[list[str | None]] = [list(headers)]
    for row in _flat_rows(stream, records):
        cells = []
        for field in headers.values():
            value = row.get(field)
            value = reverse.get(field.removeprefix("item."), {}).get(value, value)
            cells.append(None if value is None else str(value))
        table.append(cells)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(stream)
        for cells in table:
            sheet.append(cells)
        book.save(path)
        return path
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([[c if c is not None else "" for c in cells] for cells in table])
    return path
