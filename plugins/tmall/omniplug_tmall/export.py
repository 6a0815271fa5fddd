"""Back-office export files (CSV or XLSX with Chinese headers) -> raw records for normalise.

Brands download these by hand: the order line report of 千牛 (one row per
sub-order, order columns repeated), the member list of the 客户运营平台, the
万相台 report and the 达摩盘 (Databank) touch export. Each reader maps the
Chinese headers onto the field names of the matching TOP API, so the
records go through the same mappers as fetched ones. Reading the files
(GB18030 CSV as 千牛 writes it, Excel's ``="..."`` guards, XLSX) is
:mod:`omniplug.exports`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.exports import day_text, decode_label, export_batches, group_lines, read_export_rows

__all__ = [
    "ACTION_NAMES", "AD_REPORT_HEADERS", "MEMBER_HEADERS", "ORDER_HEADERS", "SCENE_NAMES",
    "STATUS_NAMES", "TOUCH_HEADERS", "TRAFFIC_NAMES", "read_ad_reports", "read_members", "read_orders",
    "read_touchpoints",
]

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


def _trade(trade: Row) -> Row:
    """A regrouped order line report row as a TOP trade (status decoded, lines under ``orders.order``)."""
    status = trade["status"]
    if status == "交易关闭":
        status = "TRADE_CLOSED" if trade["pay_time"] else "TRADE_CLOSED_BY_TAOBAO"
    lines = trade.pop("lines")
    return {**trade, "status": decode_label(STATUS_NAMES, status), "orders": {"order": lines}}


def read_orders(path: Path) -> Iterator[pa.RecordBatch]:
    """The 千牛 order line report: rows grouped into trades with their ``orders.order`` lines."""
    rows = read_export_rows(path, headers=ORDER_HEADERS, kind="a 千牛 order report",
                            required=("订单编号", "订单状态", "买家实际支付金额", "订单创建时间"))
    return export_batches(_trade(t) for t in group_lines(rows, key="tid", line_prefix="orders.", lines="lines"))


def _flat(headers: Mapping[str, str], required: tuple[str, ...], kind: str,
          fix: Callable[[Row], Row]) -> Callable[[Path], Iterator[pa.RecordBatch]]:
    def read(path: Path) -> Iterator[pa.RecordBatch]:
        return export_batches(fix(row) for row in read_export_rows(path, headers=headers, required=required,
                                                                   kind=kind))

    return read


def _report_row(row: Row) -> Row:
    return {**row, "log_date": day_text(row["log_date"]), "biz_code": decode_label(SCENE_NAMES, row["scene"])}


def _touch_row(row: Row) -> Row:
    return {**row, "action_type": decode_label(ACTION_NAMES, row["action_type"]),
            "traffic_type": decode_label(TRAFFIC_NAMES, row["traffic_type"])}


#: The 客户运营平台 member list.
read_members = _flat(MEMBER_HEADERS, ("会员OUID", "入会时间"), "a 客户运营平台 member list", lambda row: row)
#: The 万相台 daily report (one row per day x campaign x creative).
read_ad_reports = _flat(AD_REPORT_HEADERS, ("日期", "计划ID", "花费"), "a 万相台 report", _report_row)
#: The 达摩盘 (Databank) touch export.
read_touchpoints = _flat(TOUCH_HEADERS, ("触点ID", "OUID", "行为类型", "行为时间"), "a 达摩盘 touch export", _touch_row)
