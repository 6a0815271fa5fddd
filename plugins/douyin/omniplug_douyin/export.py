"""Back-office export files: Ocean Engine report downloads and Doudian order exports.

Brands download these by hand (CSV, UTF-8 with BOM or GB18030, or XLSX with
the Chinese column headers of the back office). The readers turn them into
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

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError, OmniplugError
from omniplug.fields import china_time_to_utc
from omniplug_douyin.common import raw_batch

__all__ = [
    "AD_TYPES",
    "ORDER_HEADERS",
    "ORDER_STATUSES",
    "REPORT_HEADERS",
    "read_order_export",
    "read_report_export",
    "read_rows",
]

BATCH_ROWS = 1000
#: Report export headers -> raw field names (dimensions / metrics of the report API).
REPORT_HEADERS = {"日期": "stat_time_day", "项目ID": "cdp_project_id", "广告类型": "ad_type", "素材ID": "material_id",
                  "消耗(元)": "stat_cost", "展示数": "show_cnt", "点击数": "click_cnt"}
#: Order export headers -> raw field names.
ORDER_HEADERS = {"主订单编号": "order_id", "子订单编号": "sku_order_id", "商品ID": "product_id", "商品数量": "item_num",
                 "商品金额": "sku_pay_amount", "订单应付金额": "pay_amount", "订单提交时间": "create_time",
                 "订单状态": "order_status_desc", "售后状态": "after_sale_desc", "买家ID": "doudian_open_id",
                 "收件人手机号": "post_tel"}
#: 广告类型 -> the project's ad_type.
AD_TYPES = {"通投广告": "ALL", "搜索广告": "SEARCH"}
#: 订单状态 -> Doudian order_status.
ORDER_STATUSES = {"待支付": 1, "备货中": 2, "已发货": 3, "已取消": 4, "已完成": 5}
_REFUNDED = "退款成功"
_OPTIONAL = {"素材ID", "收件人手机号", "售后状态"}


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a CSV (UTF-8/UTF-8 with BOM, else GB18030) or XLSX export as ``{header: value}``."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(path)
        return
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInputError(f"{path.name}: neither UTF-8 nor GB18030 text; save the export as CSV or XLSX")
    reader = csv.DictReader(text.splitlines())
    for row in reader:
        yield {(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items()}


def _xlsx_rows(path: Path) -> Iterator[dict[str, Any]]:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - depends on the installation
        raise OmniplugError("reading XLSX exports needs openpyxl: pip install 'omniplug-douyin[xlsx]'") from None
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = book.active.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        for values in rows:
            if any(v not in (None, "") for v in values):
                yield {h: (v.strip() if isinstance(v, str) else v) for h, v in zip(header, values, strict=False)}
    finally:
        book.close()


def _check_headers(path: Path, row: dict[str, Any], expected: Iterable[str]) -> None:
    missing = [h for h in expected if h not in row and h not in _OPTIONAL]
    if missing:
        raise InvalidInputError(f"{path.name}: missing columns {missing}; found {sorted(row)}")


def _text(value: Any) -> Any:
    """Cell text; ints become digits, floats stay floats (an id read as a float is rejected later)."""
    if isinstance(value, bool) or value is None:
        return value
    return str(value) if isinstance(value, int) else value


def _fen(value: Any) -> Any:
    """A yuan cell as whole fen; a value that is not exact yuan stays as is, for normalise to reject."""
    try:
        fen = Decimal(str(value).strip()) * 100
    except (InvalidOperation, ValueError):
        return value
    return int(fen) if fen == fen.to_integral_value() else value


def _epoch(value: Any) -> Any:
    try:
        return int(china_time_to_utc(value).timestamp())
    except (InvalidInputError, TypeError):
        return value


def _batches(records: Iterable[dict[str, Any]]) -> Iterator[pa.RecordBatch]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= BATCH_ROWS:
            yield raw_batch(chunk)
            chunk = []
    if chunk:
        yield raw_batch(chunk)


def read_report_export(path: Path) -> Iterator[pa.RecordBatch]:
    """An Ocean Engine report export as raw ``ad_reports`` batches."""

    def records() -> Iterator[dict[str, Any]]:
        for index, row in enumerate(read_rows(path)):
            if index == 0:
                _check_headers(path, row, REPORT_HEADERS)
            yield {
                "dimensions": {"stat_time_day": _text(row["日期"]), "cdp_project_id": _text(row["项目ID"]),
                               "material_id": _text(row.get("素材ID"))},
                "metrics": {"stat_cost": _text(row["消耗(元)"]), "show_cnt": _text(row["展示数"]),
                            "click_cnt": _text(row["点击数"])},
                "ad_type": AD_TYPES.get(str(row["广告类型"]), row["广告类型"]),
            }

    return _batches(records())


def read_order_export(path: Path) -> Iterator[pa.RecordBatch]:
    """A Doudian order export (one row per sub-order) as raw ``shop_orders`` batches, one record per order."""
    orders: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(read_rows(path)):
        if index == 0:
            _check_headers(path, row, ORDER_HEADERS)
        order_id = str(_text(row["主订单编号"]))
        status = row["订单状态"]
        order = orders.setdefault(order_id, {
            "order_id": order_id, "create_time": _epoch(row["订单提交时间"]), "pay_amount": _fen(row["订单应付金额"]),
            "order_status": ORDER_STATUSES.get(str(status), status), "order_status_desc": status,
            "after_sale_info": {"refund_status": 3 if row.get("售后状态") == _REFUNDED else 0},
            "doudian_open_id": _text(row["买家ID"]), "post_tel": _text(row.get("收件人手机号")), "sku_order_list": [],
        })
        order["sku_order_list"].append({"order_id": _text(row["子订单编号"]), "product_id": _text(row["商品ID"]),
                                        "item_num": _text(row["商品数量"]), "pay_amount": _fen(row["商品金额"])})
    return _batches(orders.values())
