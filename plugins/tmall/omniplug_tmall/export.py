"""Back-office export files (CSV or XLSX with Chinese headers) -> raw records for normalise.

Brands download these by hand: the order line report of 千牛 (one row per
sub-order, order columns repeated), the member list of the 客户运营平台, the
万相台 report and the 达摩盘 (Databank) touch export. Each reader maps the
Chinese headers onto the field names of the matching TOP API, so the
records go through the same mappers as fetched ones. CSV files are read as
UTF-8 (with or without BOM) or GB18030, the encoding 千牛 writes; Excel's
``="..."`` guard around long numbers is removed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.rowmap import records_batch

__all__ = [
    "ACTION_NAMES", "AD_REPORT_HEADERS", "BATCH_ROWS", "MEMBER_HEADERS", "ORDER_HEADERS", "SCENE_NAMES",
    "STATUS_NAMES", "TOUCH_HEADERS", "TRAFFIC_NAMES", "read_ad_reports", "read_members", "read_orders",
    "read_rows", "read_touchpoints",
]

BATCH_ROWS = 1000

#: 千牛 order line report header -> TOP field (``orders.*`` are sub-order fields).
ORDER_HEADERS = {
    "订单编号": "tid", "子订单编号": "orders.oid", "买家openuid": "buyer_open_uid", "订单状态": "status",
    "买家实际支付金额": "payment", "订单创建时间": "created", "订单付款时间": "pay_time",
    "商品ID": "orders.num_iid", "宝贝标题": "orders.title", "商家编码": "orders.outer_iid",
    "购买数量": "orders.num", "实付金额": "orders.payment",
}
#: 千牛 status text -> TOP status. "交易关闭" is split by whether the order was paid.
STATUS_NAMES = {
    "等待买家付款": "WAIT_BUYER_PAY", "买家已付款，等待卖家发货": "WAIT_SELLER_SEND_GOODS",
    "卖家已发货，等待买家确认": "WAIT_BUYER_CONFIRM_GOODS", "交易成功": "TRADE_FINISHED",
}
MEMBER_HEADERS = {"会员OUID": "ouid", "会员OMID": "omid", "手机号": "mobile", "入会时间": "join_time"}
AD_REPORT_HEADERS = {
    "日期": "log_date", "场景名字": "scene", "计划ID": "campaign_id", "计划名字": "campaign_name",
    "创意ID": "creative_id", "花费": "charge", "展现量": "ad_pv", "点击量": "click",
}
#: 万相台无界 scene names -> report ``biz_code``.
SCENE_NAMES = {"关键词推广": "onebpSearch", "人群推广": "onebpDisplay", "货品全站推": "onebpSite"}
TOUCH_HEADERS = {
    "触点ID": "touch_id", "OUID": "ouid", "行为类型": "action_type", "行为时间": "action_time",
    "流量类型": "traffic_type", "计划ID": "campaign_id", "创意ID": "creative_id", "商品ID": "item_id",
}
ACTION_NAMES = {"曝光": "imp", "点击": "clk", "搜索": "search", "浏览": "ipv", "加购": "cart", "收藏": "collect"}
TRAFFIC_NAMES = {"广告展示": "display", "广告搜索": "search", "自然流量": "natural"}

Row = dict[str, Any]


def _clean(value: Any) -> Any:
    """A cell as the API would send it: Excel guards stripped, blanks as ``None``, datetimes as TOP text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    text = value.strip().lstrip("\t'")
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text or None


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInputError("the CSV file is neither UTF-8 nor GB18030 text")


def read_rows(path: Path) -> Iterator[Row]:
    """The data rows of a CSV or XLSX export as ``{header: value}`` (first non-empty row = headers)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            lines: Iterable[Any] = list(book.worksheets[0].iter_rows(values_only=True))
        finally:
            book.close()
    elif suffix in (".csv", ".txt"):
        lines = csv.reader(io.StringIO(_decode(path.read_bytes())))
    else:
        raise InvalidInputError(f"{path.name}: unsupported export format {suffix!r}; expected .csv or .xlsx")
    header: list[str] | None = None
    for line in lines:
        cells = [_clean(c) for c in line]
        if header is None:
            if any(c is not None for c in cells):
                header = [str(c) if c is not None else "" for c in cells]
            continue
        if any(c is not None for c in cells):
            yield dict(zip(header, cells, strict=False))


def _fields(path: Path, headers: Mapping[str, str], required: Iterable[str]) -> Iterator[Row]:
    """Rows with TOP field names; a missing required header is an error naming what is expected."""
    checked = False
    for row in read_rows(path):
        if not checked:
            missing = [h for h in required if h not in row]
            if missing:
                raise InvalidInputError(f"{path.name}: missing columns {missing}; this export needs "
                                        f"{', '.join(headers)}")
            checked = True
        yield {field: row.get(header) for header, field in headers.items()}


def _batches(records: Iterable[Row]) -> Iterator[pa.RecordBatch]:
    chunk: list[Row] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= BATCH_ROWS:
            yield records_batch(chunk)
            chunk = []
    if chunk:
        yield records_batch(chunk)


def _mapped(table: Mapping[str, str], value: Any) -> Any:
    """A Chinese label through ``table``; unknown labels pass through (normalise names them)."""
    return table.get(value, value) if isinstance(value, str) else value


def read_orders(path: Path) -> Iterator[pa.RecordBatch]:
    """The 千牛 order line report: rows grouped into trades with their ``orders.order`` lines."""
    trades: dict[str, Row] = {}
    for row in _fields(path, ORDER_HEADERS, ("订单编号", "订单状态", "买家实际支付金额", "订单创建时间")):
        key = str(row["tid"])
        trade = trades.get(key)
        if trade is None:
            status = row["status"]
            if status == "交易关闭":
                status = "TRADE_CLOSED" if row["pay_time"] else "TRADE_CLOSED_BY_TAOBAO"
            trade = {k: v for k, v in row.items() if not k.startswith("orders.")}
            trade.update(status=_mapped(STATUS_NAMES, status), orders={"order": []})
            trades[key] = trade
        if row.get("orders.oid") is not None:
            trade["orders"]["order"].append({k.removeprefix("orders."): v for k, v in row.items()
                                             if k.startswith("orders.")})
    yield from _batches(trades.values())


def _flat(headers: Mapping[str, str], required: tuple[str, ...],
          fix: Callable[[Row], Row]) -> Callable[[Path], Iterator[pa.RecordBatch]]:
    def read(path: Path) -> Iterator[pa.RecordBatch]:
        yield from _batches(fix(row) for row in _fields(path, headers, required))

    return read


def _report_row(row: Row) -> Row:
    day = row["log_date"]
    return {**row, "log_date": day[:10] if isinstance(day, str) else day, "biz_code": _mapped(SCENE_NAMES, row["scene"])}


def _touch_row(row: Row) -> Row:
    return {**row, "action_type": _mapped(ACTION_NAMES, row["action_type"]),
            "traffic_type": _mapped(TRAFFIC_NAMES, row["traffic_type"])}


#: The 客户运营平台 member list.
read_members = _flat(MEMBER_HEADERS, ("会员OUID", "入会时间"), lambda row: row)
#: The 万相台 daily report (one row per day x campaign x creative).
read_ad_reports = _flat(AD_REPORT_HEADERS, ("日期", "计划ID", "花费"), _report_row)
#: The 达摩盘 (Databank) touch export.
read_touchpoints = _flat(TOUCH_HEADERS, ("触点ID", "OUID", "行为类型", "行为时间"), _touch_row)
