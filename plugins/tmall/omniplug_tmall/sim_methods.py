"""The business methods of the simulated TOP gateway, with the argument checks TOP makes.

Each handler takes the request parameters and returns the object that goes
under ``<method>_response``, or raises :class:`TopFault` (an
``error_response``). :class:`TopMethods` is mixed into
:class:`~omniplug_tmall.simulator.TmallSimulator`, which provides
``data`` (the rendered shop), ``clock`` and ``taint`` (malformed records).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.testing import Clock
from omniplug_tmall.client import TIME_FORMAT, china_stamp
from omniplug_tmall.sim_render import ShopData

__all__ = ["OMITTED_TYPES", "TopFault", "TopMethods"]

Record = dict[str, Any]
#: Trade types ``taobao.trades.sold.get`` returns when the caller leaves out ``type``.
OMITTED_TYPES = frozenset({"guarantee_trade", "auto_delivery", "ec", "cod", "step", "fixed", "auction"})
HORIZON = timedelta(days=90)


class TopFault(Exception):
    """A TOP ``error_response``: code, msg, sub_code, sub_msg."""

    def __init__(self, code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(f"{code} {msg} {sub_code} {sub_msg}")
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg


def missing(name: str) -> TopFault:
    """Code 40: a required argument is absent."""
    return TopFault(40, "Missing Required Arguments", f"isv.missing-parameter:{name}", f"{name} is required")


def invalid(name: str, why: str) -> TopFault:
    """Code 41: an argument is malformed or out of range (not retryable)."""
    return TopFault(41, "Invalid Arguments", f"isv.invalid-parameter:{name}", why)


def _time(p: dict[str, str], name: str) -> datetime:
    if not p.get(name):
        raise missing(name)
    try:
        return datetime.strptime(p[name], TIME_FORMAT).replace(tzinfo=CHINA_TZ)
    except ValueError:
        raise invalid(name, f"{name} must be yyyy-MM-dd HH:mm:ss") from None


def _day(p: dict[str, str], name: str) -> date:
    if not p.get(name):
        raise missing(name)
    try:
        return date.fromisoformat(p[name])
    except ValueError:
        raise invalid(name, f"{name} must be yyyy-MM-dd") from None


def _int(p: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(p.get(name) or default)
    except ValueError:
        raise invalid(name, f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise invalid(name, f"{name} must be between {low} and {high}")
    return value


def _project(trade: Record, fields: str) -> Record:
    """Only the fields asked for, as TOP does (``orders.x`` picks sub-order fields)."""
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    top = {f for f in wanted if "." not in f}
    sub = {f.split(".", 1)[1] for f in wanted if f.startswith("orders.")}
    out = {k: copy.deepcopy(v) for k, v in trade.items() if k in top and k != "orders"}
    if "orders" in top:
        out["orders"] = copy.deepcopy(trade["orders"])
    elif sub:
        out["orders"] = {"order": [{k: v for k, v in o.items() if k in sub} for o in trade["orders"]["order"]]}
    return out


def _page(rows: list[Record], page_no: int, size: int) -> list[Record]:
    """Rows of page ``page_no`` (from 1) of ``size`` rows."""
    return rows[(page_no - 1) * size: page_no * size]


def _listing(key: str, inner: str, rows: list[Record]) -> dict[str, Any]:
    """TOP's double-wrapped list; left out entirely when empty, as TOP does."""
    return {key: {inner: rows}} if rows else {}


class TopMethods:
    """The TOP methods the simulator serves (mixed into the simulator)."""

    data: ShopData
    clock: Clock
    taint: Callable[[str, list[Record]], list[Record]]

    def method_table(self) -> dict[str, tuple[Callable[[dict[str, str]], dict[str, Any]], bool]]:
        """``{method: (handler, needs a session?)}``."""
        return {
            "taobao.trades.sold.get": (self.trades_sold_get, True),
            "taobao.trades.sold.increment.get": (self.trades_sold_increment_get, True),
            "taobao.crm.members.increment.get": (self.crm_members_increment_get, True),
            "taobao.onebp.dkx.report.report.creative.offline": (self.report_creative_offline, True),
            "taobao.databank.crowd.touch.query": (self.databank_touch_query, True),
            "taobao.items.onsale.get": (self.items_onsale_get, True),
            "taobao.itemcats.get": (self.itemcats_get, False),
            "taobao.onebp.dkx.material.material.findpage": (self.material_findpage, True),
        }

    # -- trades -----------------------------------------------------------------

    def _trades(self, p: dict[str, str], key: str, low: datetime, high: datetime) -> dict[str, Any]:
        fields = p.get("fields")
        if not fields:
            raise missing("fields")
        page_no = _int(p, "page_no", 1, 1, 10**6)
        page_size = _int(p, "page_size", 40, 1, 100)
        types = set(p["type"].split(",")) if p.get("type") else OMITTED_TYPES
        oldest = china_stamp(self.clock.now() - HORIZON)
        lo, hi = china_stamp(low), china_stamp(high)
        rows = [t for t in self.data.trades.values()
                if lo <= t[key] <= hi and t["created"] >= oldest and t["type"] in types
                and (not p.get("status") or t["status"] == p["status"])]
        rows.sort(key=lambda t: (t[key], t["tid"]), reverse=True)  # newest first, as TOP sorts
        page = [_project(t, fields) for t in _page(rows, page_no, page_size)]
        out: dict[str, Any] = _listing("trades", "trade", self.taint("orders", page))
        if p.get("use_has_next") == "true":
            out["has_next"] = page_no * page_size < len(rows)
        else:
            out["total_results"] = len(rows)
        return out

    def trades_sold_get(self, p: dict[str, str]) -> dict[str, Any]:
        """Trades by creation time (both ends inclusive), newest first; only the last 3 months."""
        low = _time(p, "start_created") if p.get("start_created") else self.clock.now() - HORIZON
        high = _time(p, "end_created") if p.get("end_created") else self.clock.now()
        return self._trades(p, "created", low, high)

    def trades_sold_increment_get(self, p: dict[str, str]) -> dict[str, Any]:
        """Trades by modification time; the two ends at most one day apart."""
        low, high = _time(p, "start_modified"), _time(p, "end_modified")
        if high < low or high - low > timedelta(days=1):
            raise invalid("start_modified", "start_modified and end_modified must be at most one day apart")
        return self._trades(p, "modified", low, high)

    # -- CRM, reports, touches ------------------------------------------------------

    def crm_members_increment_get(self, p: dict[str, str]) -> dict[str, Any]:
        """Members changed (joined) between ``modify_time_min`` and ``modify_time_max``, oldest first."""
        lo, hi = china_stamp(_time(p, "modify_time_min")), china_stamp(_time(p, "modify_time_max"))
        page_no = _int(p, "current_page", 1, 1, 10**6)
        page_size = _int(p, "page_size", 100, 1, 100)
        rows = [m for m in self.data.members if lo <= m["gmt_modified"] <= hi]
        page = copy.deepcopy(_page(rows, page_no, page_size))
        return {"total_result": len(rows), **_listing("members", "basic_member", self.taint("members", page))}

    def report_creative_offline(self, p: dict[str, str]) -> dict[str, Any]:
        """Settled daily rows (yesterday at the latest) for ``start_time`` .. ``end_time`` (<= 31 days)."""
        start, end = _day(p, "start_time"), _day(p, "end_time")
        if end < start or (end - start).days > 30:
            raise invalid("end_time", "the report range must be 1 to 31 days")
        offset = _int(p, "offset", 0, 0, 10**7)
        size = _int(p, "page_size", 100, 1, 100)
        settled = min(end, self.clock.now().astimezone(CHINA_TZ).date() - timedelta(days=1))
        rows = [r for r in self.data.reports if start.isoformat() <= r["log_date"] <= settled.isoformat()]
        page = self.taint("ad_reports", copy.deepcopy(rows[offset: offset + size]))
        return {"result": {"success": True, "total_count": len(rows),
                           **_listing("report_list", "report_result_top_dto", page)}}

    def databank_touch_query(self, p: dict[str, str]) -> dict[str, Any]:
        """Touches between ``start_time`` and ``end_time`` (inclusive, <= 7 days), oldest first."""
        low, high = _time(p, "start_time"), _time(p, "end_time")
        if high < low or high - low > timedelta(days=7):
            raise invalid("end_time", "start_time and end_time must be at most 7 days apart")
        page_no = _int(p, "page_no", 1, 1, 10**6)
        size = _int(p, "page_size", 100, 1, 500)
        lo, hi = china_stamp(low), china_stamp(high)
        rows = [t for t in self.data.touches if lo <= t["action_time"] <= hi]
        page = self.taint("touchpoints", copy.deepcopy(_page(rows, page_no, size)))
        return {"result": {"total": len(rows), "has_next": page_no * size < len(rows),
                           **_listing("touch_list", "touch_detail", page)}}

    # -- catalogue and creatives --------------------------------------------------------

    def items_onsale_get(self, p: dict[str, str]) -> dict[str, Any]:
        """The shop's items on sale (``fields`` mandatory; page_size <= 200)."""
        fields = p.get("fields")
        if not fields:
            raise missing("fields")
        wanted = {f.strip() for f in fields.split(",")}
        page_no = _int(p, "page_no", 1, 1, 10**6)
        size = _int(p, "page_size", 40, 1, 200)
        page = [{k: v for k, v in i.items() if k in wanted}
                for i in _page(self.data.items, page_no, size)]
        return {"total_results": len(self.data.items), **_listing("items", "item", self.taint("products", page))}

    def itemcats_get(self, p: dict[str, str]) -> dict[str, Any]:
        """Categories by id (``cids``: comma-separated)."""
        if not p.get("cids"):
            raise missing("cids")
        try:
            cids = [int(c) for c in p["cids"].split(",")]
        except ValueError:
            raise invalid("cids", "cids must be comma-separated numbers") from None
        found = [dict(self.data.categories[c]) for c in cids if c in self.data.categories]
        return _listing("item_cats", "item_cat", found)

    def material_findpage(self, p: dict[str, str]) -> dict[str, Any]:
        """The account's creative materials, with media URLs on this simulator."""
        offset = _int(p, "offset", 0, 0, 10**7)
        size = _int(p, "page_size", 20, 1, 100)
        page = [self.material_record(m) for m in self.data.materials[offset: offset + size]]
        return {"result": {"success": True, "total_count": len(self.data.materials),
                           **_listing("material_result_top_d_t_o_list", "material_result_top_dto",
                                      self.taint("materials", page))}}

    def material_record(self, material: Record) -> Record:
        """A material as served: the stored record plus its media URL (overridden by the simulator)."""
        return dict(material)
