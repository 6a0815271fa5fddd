"""Back-office export files: Ocean Engine report downloads and Doudian order exports.

Brands download these by hand (CSV, UTF-8 with BOM or GB18030, or XLSX with
the Chinese column headers of the back office; read by
:mod:`omniplug.exports`). The readers turn them into
raw batches with the same field names as the API streams, so they go
through the same normalise: an export row that cannot be read ends in
``rejects`` with its reason, like a bad API record.

Column headers (the names the back offices use; a column may be missing
only where said):

* ``ad_reports`` (巨量引擎 报表): 日期, 项目ID, 广告类型 (通投广告/搜索广告),
  素材ID (optional), 消耗(元), 展示数, 点击数.
* ``shop_orders`` (抖店 订单导出, one row per sub-order): 主订单编号, 子订单编号,
  商品ID, 商品数量, 商品金额 (the sub-order's paid yuan), 订单应付金额,
  订单提交时间, 订单状态 (备货中/已发货/已完成/已取消), 售后状态 (退款成功 or empty),
  买家ID (the buyer's open id), 收件人手机号 (optional; a masked number gives no link).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.exports import (
    china_epoch,
    day_text,
    decode_label,
    export_batches,
    group_lines,
    or_text,
    read_export_rows,
    yuan_to_fen,
)

__all__ = [
    "AD_TYPES",
    "ORDER_HEADERS",
    "ORDER_STATUSES",
    "REPORT_HEADERS",
    "read_order_export",
    "read_report_export",
]

#: Report export headers -> raw field names (dimensions / metrics of the report API).
REPORT_HEADERS = {"日期": "stat_time_day", "项目ID": "cdp_project_id", "广告类型": "ad_type", "素材ID": "material_id",
                  "消耗(元)": "stat_cost", "展示数": "show_cnt", "点击数": "click_cnt"}
#: Order export headers -> raw field names (``sku.*``: the sub-order's).
ORDER_HEADERS = {"主订单编号": "order_id", "子订单编号": "sku.order_id", "商品ID": "sku.product_id",
                 "商品数量": "sku.item_num", "商品金额": "sku.pay_amount", "订单应付金额": "pay_amount",
                 "订单提交时间": "create_time", "订单状态": "order_status_desc", "售后状态": "after_sale_desc",
                 "买家ID": "doudian_open_id", "收件人手机号": "post_tel"}
#: 广告类型 -> the project's ad_type.
AD_TYPES = {"通投广告": "ALL", "搜索广告": "SEARCH"}
#: 订单状态 -> Doudian order_status.
ORDER_STATUSES = {"待支付": 1, "备货中": 2, "已发货": 3, "已取消": 4, "已完成": 5}
_REFUNDED = "退款成功"
_OPTIONAL = {"素材ID", "收件人手机号", "售后状态"}


def _rows(path: Path, headers: Mapping[str, str], kind: str) -> Iterator[dict[str, Any]]:
    return read_export_rows(path, headers=headers, required=[h for h in headers if h not in _OPTIONAL], kind=kind)


def _text(value: Any) -> Any:
    """Cell text; ints become digits, floats stay floats (an id read as a float is rejected later)."""
    if isinstance(value, bool) or value is None:
        return value
    return str(value) if isinstance(value, int) else value


def read_report_export(path: Path) -> Iterator[pa.RecordBatch]:
    """An Ocean Engine report export as raw ``ad_reports`` batches."""
    return export_batches({
        "dimensions": {"stat_time_day": day_text(_text(row["stat_time_day"])),
                       "cdp_project_id": _text(row["cdp_project_id"]), "material_id": _text(row["material_id"])},
        "metrics": {"stat_cost": _text(row["stat_cost"]), "show_cnt": _text(row["show_cnt"]),
                    "click_cnt": _text(row["click_cnt"])},
        "ad_type": decode_label(AD_TYPES, row["ad_type"]),
    } for row in _rows(path, REPORT_HEADERS, "an Ocean Engine report export"))


def _order(row: dict[str, Any]) -> dict[str, Any]:
    status = row["order_status_desc"]
    return {
        "order_id": str(_text(row["order_id"])), "create_time": or_text(china_epoch, row["create_time"]),
        "pay_amount": or_text(yuan_to_fen, row["pay_amount"]), "order_status": decode_label(ORDER_STATUSES, status),
        "order_status_desc": status,
        "after_sale_info": {"refund_status": 3 if row["after_sale_desc"] == _REFUNDED else 0},
        "doudian_open_id": _text(row["doudian_open_id"]), "post_tel": _text(row["post_tel"]),
        "sku_order_list": [{"order_id": _text(sku["order_id"]), "product_id": _text(sku["product_id"]),
                            "item_num": _text(sku["item_num"]), "pay_amount": or_text(yuan_to_fen, sku["pay_amount"])}
                           for sku in row["lines"]],
    }


def read_order_export(path: Path) -> Iterator[pa.RecordBatch]:
    """A Doudian order export (one row per sub-order) as raw ``shop_orders`` batches, one record per order."""
    rows = _rows(path, ORDER_HEADERS, "a Doudian order export")
    return export_batches(_order(order) for order in group_lines(rows, key="order_id", line_prefix="sku.",
                                                                 lines="lines"))
