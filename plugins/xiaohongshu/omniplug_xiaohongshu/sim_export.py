"""Back-office export files as the simulated brand would download them (the inverse of ``export``).

:func:`write_export` writes the simulator's world as the Juguang creative
report, the Pugongying note data or the Ark order export, in CSV (UTF-8 with
BOM, or GB18030) or XLSX, with the Chinese headers of
:mod:`omniplug_xiaohongshu.export` under a title line, as the back offices do.
Tests import these files and compare with the world; the demo can offer them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from omniplug.errors import InvalidInputError
from omniplug.exports import write_export_file
from omniplug.fields import CHINA_TZ
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.export import (
    AD_REPORT_HEADERS,
    KOL_NOTE_HEADERS,
    ORDER_HEADERS,
)
from omniplug_xiaohongshu.simulator import XiaohongshuSimulator

__all__ = ["export_rows", "write_export"]

_TITLES = {"ad_reports": "聚光平台 创意数据报表（分天）", "kol_notes": "蒲公英 投后数据-笔记明细",
           "shop_orders": "订单导出"}


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _wall_ms(value: int | None) -> str:
    if value is None:
        return ""
    moment = datetime.fromtimestamp(value / 1000, UTC).astimezone(CHINA_TZ)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _mask(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone else ""


def export_rows(sim: XiaohongshuSimulator, stream: str, *, mask_phones: bool = False) -> list[dict[str, Any]]:
    """The export's rows (Chinese header -> cell text) for ``stream``."""
    if stream == "ad_reports":
        labels = codes.PLACEMENT_LABELS
        # Ids as text, as the back office writes them: Excel keeps only 15 digits of a number.
        return [{"时间": r["time"], "计划ID": str(r["campaign_id"]), "计划名称": r["campaign_name"],
                 "单元ID": str(r["unit_id"]), "创意ID": str(r.get("creativity_id", "")), "笔记ID": r.get("note_id", ""),
                 "广告类型": labels[r["placement"]], "消费(元)": f"{Decimal(repr(r['fee'])):.2f}",
                 "展现量": r["impression"], "点击量": r["click"]} for r in sim.data.report_rows]
    if stream == "kol_notes":
        latest = sim.clock.now().astimezone(CHINA_TZ).date() - timedelta(days=1)
        return [{"数据更新日期": latest.isoformat(), "笔记ID": r["note_id"], "笔记标题": r["note_title"],
                 "笔记类型": codes.NOTE_TYPE_LABELS[r["note_type"]], "笔记创建时间": r["note_create_time"],
                 "笔记发布时间": r["note_publish_time"], "博主ID": r["kol_id"], "博主昵称": r["kol_nick_name"],
                 "博主报价(元)": _yuan(r["kol_price"]), "曝光量": r["imp_num"], "阅读量": r["read_num"],
                 "点赞量": r["like_num"], "收藏量": r["fav_num"], "评论量": r["cmt_num"], "分享量": r["share_num"],
                 "正文组件点击量": r["content_comp_click_num"]} for r in sim.note_rows(latest)]
    if stream == "shop_orders":
        rows = []
        for o in sim.data.orders:
            phone = o.get("receiverPhone")
            for sku in o["skuList"]:
                rows.append({"订单号": o["orderId"], "订单状态": codes.ARK_STATUS_LABELS[o["orderStatus"]],
                             "下单时间": _wall_ms(o["createdTime"]), "支付时间": _wall_ms(o.get("paidTime")),
                             "更新时间": _wall_ms(o["updateTime"]), "用户ID": o["userId"],
                             "订单实付金额(元)": _yuan(o["totalPayAmount"]),
                             "收件人手机号": _mask(phone) if mask_phones else (phone or ""),
                             "商品ID": sku["skuId"], "商品名称": sku["skuName"], "商品数量": sku["skuQuantity"],
                             "商品实付金额(元)": _yuan(sku["totalPaidAmount"])})
        return rows
    raise InvalidInputError(f"xiaohongshu has no back-office export for {stream!r}")


def write_export(sim: XiaohongshuSimulator, stream: str, path: str | Path, *, encoding: str = "utf-8-sig",
                 mask_phones: bool = False) -> Path:
    """Write ``stream``'s export to ``path`` (``.csv`` or ``.xlsx``) and return the path."""
    headers = list({"ad_reports": AD_REPORT_HEADERS, "kol_notes": KOL_NOTE_HEADERS,
                    "shop_orders": ORDER_HEADERS}.get(stream, {}))
    rows = export_rows(sim, stream, mask_phones=mask_phones)
    return write_export_file(path, headers, ([row.get(h, "") for h in headers] for row in rows), encoding=encoding,
                             title=_TITLES[stream])
