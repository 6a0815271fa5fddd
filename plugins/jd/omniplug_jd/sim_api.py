"""The JOS methods the JD simulator serves: argument checks, filtering, paging, result envelopes.

Each handler takes the decoded ``360buy_param_json`` arguments and returns
the object that goes under ``<method>_responce``. Argument problems are
answered the way each API answers them: order search through
``apiResult.success=false``, the ads report through
``returnType.success=false``, the others through a non-zero ``code``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from omniplug.fields import CHINA_TZ
from omniplug_jd.client import TIME_FORMAT, add_month
from omniplug_jd.sim_render import Rendered

__all__ = [
    "AD_REPORT",
    "CREATIVE_LIST",
    "CROWD_EXPORT",
    "MEMBER_SCAN",
    "METHODS",
    "ORDER_SEARCH",
    "SKU_SEARCH",
    "ApiState",
    "ArgumentError",
]

ORDER_SEARCH = "jingdong.pop.order.search"
MEMBER_SCAN = "jingdong.crm.member.scan"
SKU_SEARCH = "jingdong.sku.read.searchSkuList"
AD_REPORT = "jingdong.ads.ibg.UniversalJosService.ad.query"
CROWD_EXPORT = "jingdong.brand.crowd.behavior.export"
CREATIVE_LIST = "jingdong.ads.ibg.UniversalJosService.creative.list"

Record = dict[str, Any]


class ArgumentError(Exception):
    """A business argument JD would refuse; the message is the Chinese and English text."""


class ApiState(Protocol):
    """What the handlers need from the simulator."""

    rendered: Rendered
    max_page_size: int

    def take_malformed(self, stream: str) -> bool:
        """True once after ``inject_malformed(stream)``."""

    def take_search_failure(self) -> bool:
        """True while injected ``apiResult.success=false`` answers remain."""


def _int(args: dict[str, Any], name: str, default: int | None = None) -> int:
    value = args.get(name, default)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ArgumentError(f"参数错误: {name} 必须是整数 / param error: {name} must be an integer") from None


def _check_size(size: int, cap: int, what: str) -> None:
    if not 1 <= size <= cap:
        raise ArgumentError(f"参数错误: {what} 必须在1到{cap}之间 / "
                            f"param error: {what} must be between 1 and {cap}")


def _page(rows: list[Record], page: int, size: int, cap: int, what: str = "page_size") -> list[Record]:
    if page < 1:
        raise ArgumentError("参数错误: 页码从1开始 / param error: page starts at 1")
    _check_size(size, cap, what)
    # Copies: a malformed-record injection must not corrupt the world.
    return [copy.deepcopy(r) for r in rows[(page - 1) * size: page * size]]


def _when(args: dict[str, Any], name: str, fmt: str = TIME_FORMAT) -> datetime:
    try:
        return datetime.strptime(str(args[name]), fmt).replace(tzinfo=CHINA_TZ)
    except (KeyError, ValueError):
        raise ArgumentError(f"参数错误: {name} 格式应为 {fmt} / param error: {name} must be {fmt}") from None


def order_search(sim: ApiState, args: dict[str, Any]) -> Record:
    """``jingdong.pop.order.search``: optional_fields mandatory, window <= 1 month, page from 1."""
    if sim.take_search_failure():
        return _order_result([], 0, {"success": False, "chineseErrCode": "系统繁忙,请稍后重试",
                                     "englishErrCode": "system busy, please retry", "numberCode": 10100})
    try:
        fields = [f for f in str(args.get("optional_fields") or "").split(",") if f]
        if not fields:
            raise ArgumentError("参数错误: optional_fields 不能为空 / param error: optional_fields is required")
        start, end = _when(args, "start_date"), _when(args, "end_date")
        if end < start or end > add_month(start):
            raise ArgumentError("参数错误: 查询时间跨度不能超过一个月 / "
                                "param error: the window must not exceed one month")
        states = {s for s in str(args.get("order_state") or "").split(",") if s}
        by = "modified" if str(args.get("dateType", "0")) == "0" else "orderStartTime"
        lo, hi = start.strftime(TIME_FORMAT), end.strftime(TIME_FORMAT)
        matching = [o for o in sim.rendered.orders
                    if lo <= o[by] <= hi and (not states or o["orderState"] in states)]
        page = _page(matching, _int(args, "page", 1), _int(args, "page_size", 10), sim.max_page_size)
    except ArgumentError as exc:
        zh, _, en = str(exc).partition(" / ")
        return _order_result([], 0, {"success": False, "chineseErrCode": zh, "englishErrCode": en,
                                     "numberCode": 10400})
    if page and sim.take_malformed("orders"):
        page[0]["orderStartTime"] = "2026-13-45 99:00:00"
    keep = set(fields) | {"orderId"}
    return _order_result([{k: v for k, v in o.items() if k in keep} for o in page], len(matching),
                         {"success": True, "chineseErrCode": "成功", "englishErrCode": "success", "numberCode": 0})


def _order_result(items: list[Record], total: int, api_result: Record) -> Record:
    return {"code": "0", "searchorderinfo_result": {"orderInfoList": items, "orderTotal": total,
                                                    "apiResult": api_result}}


def member_scan(sim: ApiState, args: dict[str, Any]) -> Record:
    """``jingdong.crm.member.scan``: page_size on the first page, then only ``scroll_id``."""
    rows = sim.rendered.members
    scroll = args.get("scroll_id")
    if scroll:
        try:
            offset, size = (int(x) for x in str(scroll).removeprefix("scan-").split("-"))
        except ValueError:
            raise ArgumentError("参数错误: scroll_id 无效 / param error: invalid scroll_id") from None
    else:
        offset, size = 0, _int(args, "page_size", 0)
        _check_size(size, 100, "page_size")
    page = [copy.deepcopy(r) for r in rows[offset: offset + size]]
    if page and sim.take_malformed("members"):
        page[0]["open_card_time"] = "yesterday"
    return {"code": "0", "crm_member_scan_result": {
        "total_result": len(rows), "crm_members": page, "scroll_id": f"scan-{offset + len(page)}-{size}"}}


def sku_search(sim: ApiState, args: dict[str, Any]) -> Record:
    """``jingdong.sku.read.searchSkuList``: pageNo/pageSize, only the asked ``field`` list (plus skuId)."""
    rows = sim.rendered.skus
    page = _page(rows, _int(args, "pageNo", 1), _int(args, "pageSize", 20), 100, "pageSize")
    if page and sim.take_malformed("products"):
        page[0]["jdPrice"] = "12.34.5"
    fields = {f for f in str(args.get("field") or "").split(",") if f} | {"skuId", "wareId"}
    return {"code": "0", "page": {"data": [{k: v for k, v in s.items() if k in fields} for s in page],
                                  "pageNo": _int(args, "pageNo", 1), "pageSize": _int(args, "pageSize", 20),
                                  "totalItem": len(rows)}}


def ad_report(sim: ApiState, args: dict[str, Any]) -> Record:
    """京准通 creative report by day: startDay/endDay (yyyy-MM-dd, inclusive), page/pageSize."""
    try:
        start = _when(args, "startDay", "%Y-%m-%d").strftime("%Y%m%d")
        end = _when(args, "endDay", "%Y-%m-%d").strftime("%Y%m%d")
        rows = [r for r in sim.rendered.ad_rows if int(start) <= r["date"] <= int(end)]
        page = _page(rows, _int(args, "page", 1), _int(args, "pageSize", 10), 100, "pageSize")
    except ArgumentError as exc:
        return {"code": "0", "returnType": {"success": False, "code": "400", "msg": str(exc), "data": None}}
    if page and sim.take_malformed("ad_reports"):
        page[0]["cost"] = "about 12 yuan"
    return _return_type(page, args, len(rows))


def _return_type(page: list[Record], args: dict[str, Any], total: int) -> Record:
    """The 京准通 envelope: ``returnType`` with ``data.datas`` and a ``paginator``."""
    return {"code": "0", "returnType": {"success": True, "code": "0", "msg": None, "data": {
        "datas": page, "paginator": {"page": _int(args, "page", 1), "pageSize": _int(args, "pageSize", 10),
                                     "items": total}}}}


def crowd_export(sim: ApiState, args: dict[str, Any]) -> Record:
    """Brand crowd behaviour records by event time; the payload is a JSON *string* (``queryResult``)."""
    start, end = _when(args, "startTime"), _when(args, "endTime")
    lo, hi = start.strftime(TIME_FORMAT), end.strftime(TIME_FORMAT)
    rows = [t for t in sim.rendered.touches if lo <= t["eventTime"] <= hi]
    page = _page(rows, _int(args, "page", 1), _int(args, "pageSize", 100), 1000, "pageSize")
    if page and sim.take_malformed("touchpoints"):
        page[0]["eventTime"] = "2026-10-32 25:61:00"
    payload = {"code": 200, "message": "success", "data": {"list": page, "total": len(rows)}}
    return {"code": "0", "queryResult": json.dumps(payload, ensure_ascii=False)}


def creative_list(sim: ApiState, args: dict[str, Any]) -> Record:
    """京准通 creatives with their image URLs, page/pageSize."""
    rows = sim.rendered.creatives
    page = _page(rows, _int(args, "page", 1), _int(args, "pageSize", 10), 100, "pageSize")
    if page and sim.take_malformed("materials"):
        page[0]["createTime"] = "not a time"
    return _return_type(page, args, len(rows))


#: method name -> handler.
METHODS: dict[str, Callable[[ApiState, dict[str, Any]], Record]] = {
    ORDER_SEARCH: order_search, MEMBER_SCAN: member_scan, SKU_SEARCH: sku_search, AD_REPORT: ad_report,
    CROWD_EXPORT: crowd_export, CREATIVE_LIST: creative_list,
}
