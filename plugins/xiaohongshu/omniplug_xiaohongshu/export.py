"""Back-office export files (CSV or XLSX with Chinese headers) read as raw API records.

Brands often download these by hand instead of calling the API:

* ``ad_reports``: the Juguang creative report (聚光 数据报表 - 创意, 分天);
* ``kol_notes``: the Pugongying post-campaign note data (蒲公英 投后数据 - 笔记);
* ``shop_orders``: the Ark order export (订单导出), one row per SKU line.

Each reader turns the rows into records with the API's field names and
units (fen for Ark and Pugongying amounts, ms epochs for Ark times), so the
same ``normalise`` handles fetched and imported data. Exports write yuan
amounts (``(元)``) and China wall-clock times. Reading the files (UTF-8 or
GB18030 CSV, XLSX, a title line above the header row) is
:mod:`omniplug.exports`. Receiver phones in an export are often
masked (``138****8000``): such rows give orders but no identity link.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from omniplug.exports import (
    china_epoch,
    decode_label,
    export_batches,
    group_lines,
    or_text,
    read_export_rows,
    whole_number,
    yuan_to_fen,
)
from omniplug_xiaohongshu import codes

__all__ = [
    "AD_REPORT_HEADERS",
    "KOL_NOTE_HEADERS",
    "ORDER_HEADERS",
    "read_ad_reports",
    "read_kol_notes",
    "read_shop_orders",
]

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
#: Ark order export column -> API field (``skuList.*``: the SKU line's).
ORDER_HEADERS = {"订单号": "orderId", "订单状态": "orderStatus", "下单时间": "createdTime", "支付时间": "paidTime",
                 "更新时间": "updateTime", "用户ID": "userId", "订单实付金额(元)": "totalPayAmount",
                 "收件人手机号": "receiverPhone", "商品ID": "skuList.skuId", "商品名称": "skuList.skuName",
                 "商品数量": "skuList.skuQuantity", "商品实付金额(元)": "skuList.totalPaidAmount"}
_OPTIONAL = {"campaign_name", "unit_id", "creativity_id", "note_id", "date_key", "kol_nick_name", "read_num",
             "like_num", "fav_num", "cmt_num", "share_num", "content_comp_click_num", "paidTime", "updateTime",
             "receiverPhone", "skuList.skuName"}
_COUNTS = ("imp_num", "read_num", "like_num", "fav_num", "cmt_num", "share_num", "content_comp_click_num")


def _rows(path: Path, headers: Mapping[str, str], kind: str) -> Iterator[dict[str, Any]]:
    required = [h for h, field in headers.items() if field not in _OPTIONAL]
    return read_export_rows(path, headers=headers, required=required, kind=kind)


def _text(cell: Any) -> str | None:
    """A cell as text, numbers without a spurious ``.0``."""
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _ms(cell: Any) -> int | None:
    """A China wall-clock time cell as epoch milliseconds (Ark's unit)."""
    return china_epoch(cell, "ms")


def read_ad_reports(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a Juguang creative report export (分天) as ``ad_reports`` records."""
    labels = codes.inverse(codes.PLACEMENT_LABELS)

    def record(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "time": _text(row["time"]), "campaign_id": _text(row["campaign_id"]),
            "campaign_name": _text(row["campaign_name"]), "unit_id": _text(row["unit_id"]),
            "creativity_id": _text(row["creativity_id"]), "note_id": _text(row["note_id"]),
            "placement": decode_label(labels, _text(row["placement"])), "fee": _text(row["fee"]),
            "impression": or_text(whole_number, row["impression"]), "click": or_text(whole_number, row["click"]),
        }

    return export_batches(record(row) for row in _rows(path, AD_REPORT_HEADERS, "a Juguang creative report"))


def read_kol_notes(path: Path) -> Iterator[pa.RecordBatch]:
    """Read a Pugongying note data export as ``kol_notes`` records (博主报价 yuan -> fen)."""
    labels = codes.inverse(codes.NOTE_TYPE_LABELS)

    def record(row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "date_key": _text(row["date_key"]), "note_id": _text(row["note_id"]),
            "note_title": _text(row["note_title"]), "note_type": decode_label(labels, _text(row["note_type"])),
            "note_create_time": _text(row["note_create_time"]),
            "note_publish_time": _text(row["note_publish_time"]), "kol_id": _text(row["kol_id"]),
            "kol_nick_name": _text(row["kol_nick_name"]), "kol_price": or_text(yuan_to_fen, row["kol_price"]),
        }
        out.update({field: or_text(whole_number, row[field]) for field in _COUNTS if row[field] is not None})
        return out

    return export_batches(record(row) for row in _rows(path, KOL_NOTE_HEADERS, "a Pugongying note data export"))


def read_shop_orders(path: Path) -> Iterator[pa.RecordBatch]:
    """Read an Ark order export (one row per SKU line) as ``shop_orders`` records, lines regrouped."""
    labels = codes.inverse(codes.ARK_STATUS_LABELS)

    def record(order: dict[str, Any]) -> dict[str, Any]:
        return {
            "orderId": _text(order["orderId"]) or "", "orderStatus": decode_label(labels, _text(order["orderStatus"])),
            "createdTime": or_text(_ms, order["createdTime"]), "paidTime": or_text(_ms, order["paidTime"]),
            "updateTime": or_text(_ms, order["updateTime"]), "userId": _text(order["userId"]),
            "totalPayAmount": or_text(yuan_to_fen, order["totalPayAmount"]),
            "receiverPhone": _text(order["receiverPhone"]),
            "skuList": [{"skuId": _text(sku["skuId"]), "skuName": _text(sku["skuName"]),
                         "skuQuantity": or_text(whole_number, sku["skuQuantity"]),
                         "totalPaidAmount": or_text(yuan_to_fen, sku["totalPaidAmount"])} for sku in order["skuList"]],
        }

    orders = group_lines(_rows(path, ORDER_HEADERS, "an Ark order export"), key="orderId", line_prefix="skuList.",
                         lines="skuList")
    return export_batches(record(order) for order in orders)
