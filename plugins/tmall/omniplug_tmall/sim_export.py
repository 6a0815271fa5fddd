"""Back-office export files of the simulated shop, as a brand would download them by hand.

The inverse of :mod:`omniplug_tmall.export`: the shop's records with the
Chinese headers of 千牛, the 客户运营平台, 万相台 and 达摩盘. CSV files are
written in GB18030 with Excel's ``="..."`` guard around long numbers, as 千牛
does; XLSX files keep long numbers as text cells.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omniplug.exports import write_export_file
from omniplug_tmall.export import (
    ACTION_NAMES,
    AD_REPORT_HEADERS,
    MEMBER_HEADERS,
    ORDER_HEADERS,
    SCENE_NAMES,
    STATUS_NAMES,
    TOUCH_HEADERS,
    TRAFFIC_NAMES,
)
from omniplug_tmall.sim_render import ShopData

__all__ = ["EXPORT_STREAMS", "export_rows", "write_export"]

Row = dict[str, Any]
_STATUS_TEXT = {code: text for text, code in STATUS_NAMES.items()} | {
    "TRADE_CLOSED": "交易关闭", "TRADE_CLOSED_BY_TAOBAO": "交易关闭"}
_SCENE_TEXT = {code: text for text, code in SCENE_NAMES.items()}
_ACTION_TEXT = {code: text for text, code in ACTION_NAMES.items()}
_TRAFFIC_TEXT = {code: text for text, code in TRAFFIC_NAMES.items()}


def _order_rows(data: ShopData) -> Iterator[Row]:
    for trade in sorted(data.trades.values(), key=lambda t: t["tid"]):
        for line in trade["orders"]["order"]:
            yield {"订单编号": trade["tid"], "子订单编号": line["oid"], "买家openuid": trade["buyer_open_uid"],
                   "订单状态": _STATUS_TEXT[trade["status"]], "买家实际支付金额": trade["payment"],
                   "订单创建时间": trade["created"], "订单付款时间": trade.get("pay_time"),
                   "商品ID": line["num_iid"], "宝贝标题": line["title"], "商家编码": line["outer_iid"],
                   "购买数量": line["num"], "实付金额": line["payment"]}


def _member_rows(data: ShopData) -> Iterator[Row]:
    for m in data.members:
        yield {"会员OUID": m["ouid"], "会员OMID": m.get("omid"), "手机号": m.get("mobile"), "入会时间": m["join_time"]}


def _report_rows(data: ShopData) -> Iterator[Row]:
    for r in data.reports:
        yield {"日期": r["log_date"], "场景名字": _SCENE_TEXT[r["biz_code"]], "计划ID": r["campaign_id"],
               "计划名字": r.get("campaign_name"), "创意ID": r.get("creative_id"), "花费": r["charge"],
               "展现量": r["ad_pv"], "点击量": r["click"]}


def _touch_rows(data: ShopData) -> Iterator[Row]:
    for t in data.touches:
        yield {"触点ID": t["touch_id"], "OUID": t["ouid"], "行为类型": _ACTION_TEXT[t["action_type"]],
               "行为时间": t["action_time"], "流量类型": _TRAFFIC_TEXT[t["traffic_type"]],
               "计划ID": t.get("campaign_id"), "创意ID": t.get("creative_id"), "商品ID": t.get("item_id")}


#: stream -> (headers in file order, row source).
EXPORT_STREAMS = {
    "orders": (list(ORDER_HEADERS), _order_rows),
    "members": (list(MEMBER_HEADERS), _member_rows),
    "ad_reports": (list(AD_REPORT_HEADERS), _report_rows),
    "touchpoints": (list(TOUCH_HEADERS), _touch_rows),
}


def export_rows(data: ShopData, stream: str) -> tuple[list[str], list[Row]]:
    """The headers and rows of ``stream``'s export."""
    headers, rows = EXPORT_STREAMS[stream]
    return headers, list(rows(data))


def write_export(data: ShopData, stream: str, path: Path) -> Path:
    """Write ``stream``'s export to ``path`` (``.csv``: GB18030; ``.xlsx``: one sheet)."""
    headers, rows = export_rows(data, stream)
    return write_export_file(path, headers, ([row.get(h) for h in headers] for row in rows), encoding="gb18030",
                             guard_long_numbers=True)
