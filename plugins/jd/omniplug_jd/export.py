"""JD back-office export files (CSV or XLSX with Chinese headers) <-> raw records.

Brands download three reports by hand: the order list of 商家后台 (one row
per order line), the 京准通 report, and the 数坊 crowd behaviour detail.
The readers turn each into the records the gateway would have returned (same
field names, same codes), so :mod:`omniplug_jd.normalise` handles both. The
writers do the inverse; tests and demos use them to make export files from
the simulated world.

Reading the files (UTF-8 or GB18030 CSV, XLSX) is :mod:`omniplug.exports`.
Ids are kept as text: an id cell Excel stored as a number is refused by
normalise, because above 2**53 its digits are already lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.exports import decode_label, export_batches, group_lines, read_export_rows, write_export_file

__all__ = ["HEADERS", "LABELS", "read_ad_reports", "read_orders", "read_touchpoints", "write_export"]

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


def _records(path: Path, stream: str) -> Iterator[Record]:
    """The rows of a ``stream`` export with the API's field names and codes."""
    for row in read_export_rows(path, headers=HEADERS[stream], kind=f"a JD {stream} export"):
        # An unknown label passes through: normalise rejects that one record with the reason.
        yield {field: decode_label(LABELS[name], value) if (name := field.removeprefix("item.")) in LABELS else value
               for field, value in row.items()}


def read_ad_reports(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 京准通 report export (日期, 计划ID, 创意ID, 展现数, 点击数, 总花费, ...)."""
    return export_batches(_records(path, "ad_reports"))


def read_touchpoints(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 数坊 crowd behaviour export (事件ID, 用户PIN, 行为时间, 行为类型, 流量来源, ...)."""
    return export_batches(_records(path, "touchpoints"))


def read_orders(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a 商家后台 order export (one row per order line) into ``orderInfo`` records."""
    return export_batches(group_lines(_records(path, "orders"), key="orderId", line_prefix="item.",
                                      lines="itemInfoList"))


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
    table: list[list[str | None]] = []
    for row in _flat_rows(stream, records):
        cells = []
        for field in headers.values():
            value = row.get(field)
            value = reverse.get(field.removeprefix("item."), {}).get(value, value)
            cells.append(None if value is None else str(value))
        table.append(cells)
    return write_export_file(path, list(headers), table, encoding=encoding)
