"""The world's Tmall slice in TOP's own shapes: the exact inverse of :mod:`omniplug_tmall.normalise`.

Times become China wall-time strings, money yuan strings, ids JSON numbers
where TOP sends numbers (trade ids above 2**53 included), phones raw (the
CRM member list carries the member's mobile). Status, trade type, pay and
modification times that the canonical tables do not hold are derived
deterministically from the ids, so every run renders the same shop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from omniplug.world import World
from omniplug_tmall.client import PLATFORM, china_stamp
from omniplug_tmall.normalise import ACTION_TYPES, TRAFFIC_CHANNELS

__all__ = ["SHOP_NICK", "ShopData", "render_shop"]

Record = dict[str, Any]
SHOP_NICK = "Lumière官方旗舰店"
#: Category tree root of the items (美妆 / 美容护肤).
_ROOT_CID = 1801
_EVENT_CODES = {event: code for code, event in ACTION_TYPES.items()}
_CHANNEL_CODES = {channel: code for code, channel in TRAFFIC_CHANNELS.items()}


@dataclass
class ShopData:
    """Everything the simulated TOP serves, as TOP records (mutable: tests modify trades)."""

    trades: dict[int, Record] = field(default_factory=dict)
    members: list[Record] = field(default_factory=list)
    reports: list[Record] = field(default_factory=list)
    touches: list[Record] = field(default_factory=list)
    items: list[Record] = field(default_factory=list)
    categories: dict[int, Record] = field(default_factory=dict)
    materials: list[Record] = field(default_factory=list)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _nick(open_uid: str) -> str:
    # TOP masks buyer nicks since the open_uid change: first character, then stars.
    return f"{open_uid[3]}**"


def _trade_state(status: str, created: datetime, order_id: int, world_end: datetime) -> tuple[str, bool, datetime]:
    """(TOP status, paid?, modified) of a trade, derived from its canonical status and id."""
    spread = order_id % 9973
    if status == "cancelled":  # closed before payment
        state, paid, modified = "TRADE_CLOSED_BY_TAOBAO", False, created + timedelta(minutes=5 + spread % 120)
    elif status == "refunded":  # paid, then refunded: closed after payment
        state, paid, modified = "TRADE_CLOSED", True, created + timedelta(hours=6 + spread % 60)
    elif created + timedelta(days=7) <= world_end:
        state, paid, modified = "TRADE_FINISHED", True, created + timedelta(days=7, seconds=spread)
    elif spread % 2 == 0:
        state, paid, modified = "WAIT_BUYER_CONFIRM_GOODS", True, created + timedelta(hours=2 + spread % 20)
    else:
        state, paid, modified = "WAIT_SELLER_SEND_GOODS", True, created + timedelta(seconds=30)
    # Nothing in the shop changes once the world's window has closed.
    return state, paid, min(modified, world_end - timedelta(seconds=1))


def _trade_type(order_id: int) -> str:
    # Mostly fixed-price trades; some presale (step) and Tmall Global trades, which
    # taobao.trades.sold.get leaves out when the caller omits ``type``.
    return "tmall_i18n" if order_id % 20 == 0 else "step" if order_id % 10 == 1 else "fixed"


def _trades(world: World, s: dict[str, Any]) -> dict[int, Record]:
    ouid_of = {r["left_value"]: r["right_value"] for r in s["identity_links"].to_pylist()
               if r["left_type"] == "tmall_buyer_open_uid" and r["right_type"] == "tmall_ouid"}
    products = {p["product_id"]: p for p in s["products"].to_pylist()}
    lines: dict[str, list[Record]] = defaultdict(list)
    for line in s["order_items"].to_pylist():
        lines[line["order_id"]].append(line)
    trades: dict[int, Record] = {}
    for order in s["orders"].to_pylist():
        tid = int(order["order_id"])
        created = order["order_time"]
        status, paid, modified = _trade_state(order["status"], created, tid, world.config.end)
        trade: Record = {
            "tid": tid, "type": _trade_type(tid), "status": status, "payment": _money(order["amount"]),
            "created": china_stamp(created), "modified": china_stamp(modified),
            "buyer_open_uid": order["id_value"], "buyer_nick": _nick(order["id_value"]),
            "seller_nick": SHOP_NICK,
            "orders": {"order": [
                {"oid": int(line["line_id"]), "num_iid": int(line["product_id"]), "num": line["quantity"],
                 "payment": _money(line["amount"]), "title": products[line["product_id"]]["title"],
                 "outer_iid": products[line["product_id"]]["sku"], "status": status}
                for line in sorted(lines[order["order_id"]], key=lambda x: int(x["line_id"]))
            ]},
        }
        if paid:
            trade["pay_time"] = china_stamp(created + timedelta(seconds=20 + tid % 600))
        if order["id_value"] in ouid_of:
            trade["ouid"] = ouid_of[order["id_value"]]
        phone = world.order_phones.get((PLATFORM, order["order_id"]))
        if phone:
            trade["receiver_mobile"] = phone
        trades[tid] = trade
    return trades


def _members(world: World, s: dict[str, Any]) -> list[Record]:
    phones = world.phone_of_hash()
    members: dict[str, Record] = {}
    for link in s["identity_links"].to_pylist():
        if link["left_type"] != "tmall_ouid":
            continue
        ouid = link["left_value"]
        joined = china_stamp(link["observed_at"])
        member = members.setdefault(ouid, {"ouid": ouid, "buyer_nick": f"{ouid[2]}**",
                                           "grade": 1 + int(ouid[-1], 16) % 3,
                                           "status": "normal", "join_time": joined, "gmt_modified": joined})
        if link["right_type"] == "phone_sha256":
            member["mobile"] = phones[link["right_value"]]
        elif link["right_type"] == "tmall_omid":
            member["omid"] = link["right_value"]
    return sorted(members.values(), key=lambda m: (m["gmt_modified"], m["ouid"]))


def _reports(world: World, s: dict[str, Any]) -> list[Record]:
    names = {c.campaign_id: c.name for c in world.catalog.campaigns if c.platform == PLATFORM}
    rows = []
    for r in s["spend"].to_pylist():
        row: Record = {"log_date": r["date"].isoformat(),
                       "biz_code": "onebpSearch" if r["channel"] == "search" else "onebpDisplay",
                       "campaign_id": int(r["campaign_id"]), "campaign_name": names.get(r["campaign_id"]),
                       "charge": _money(r["spend"]), "ad_pv": r["impressions"], "click": r["clicks"]}
        if r["material_id"]:
            row["creative_id"] = r["material_id"]
        rows.append(row)
    return sorted(rows, key=lambda r: (r["log_date"], r["campaign_id"], r.get("creative_id") or ""))


def _touches(s: dict[str, Any]) -> list[Record]:
    rows = []
    for t in s["touchpoints"].to_pylist():
        row: Record = {"touch_id": t["event_id"], "ouid": t["id_value"], "action_type": _EVENT_CODES[t["event_type"]],
                       "action_time": china_stamp(t["event_time"]), "traffic_type": _CHANNEL_CODES[t["channel"]]}
        for key, value in (("campaign_id", t["campaign_id"]), ("item_id", t["product_id"])):
            if value:
                row[key] = int(value)
        if t["material_id"]:
            row["creative_id"] = t["material_id"]
        rows.append(row)
    return sorted(rows, key=lambda r: (r["action_time"], r["touch_id"]))


def _catalog(world: World, s: dict[str, Any], data: ShopData) -> None:
    products = s["products"].to_pylist()
    cids = {name: 121_400_000 + i for i, name in enumerate(sorted({p["category"] for p in products}))}
    data.categories = {cid: {"cid": cid, "name": name, "parent_cid": _ROOT_CID, "is_parent": False}
                       for name, cid in cids.items()}
    listed = china_stamp(world.config.start - timedelta(days=60))
    data.items = sorted(({
        "num_iid": int(p["product_id"]), "title": p["title"], "price": _money(p["price"]), "outer_id": p["sku"],
        "cid": cids[p["category"]], "modified": listed,
        "props_name": f"20000:{3_000_000 + cids[p['category']] % 1000}:品牌:{p['brand']};1627207:28341:颜色分类:默认",
    } for p in products), key=lambda i: i["num_iid"])
    data.materials = sorted(({
        key: value for key, value in {
            "material_id": m["material_id"], "title": m["title"],
            "material_type": 2 if m["media_type"] == "video" else 1,
            "campaign_id": int(m["campaign_id"]) if m["campaign_id"] else None, "status": 1,
            "create_time": china_stamp(m["created_at"]),
        }.items() if value is not None  # TOP leaves empty fields out
    } for m in s["materials"].to_pylist()), key=lambda m: m["material_id"])


def render_shop(world: World) -> ShopData:
    """Render the world's Tmall slice as the records TOP would serve."""
    s = world.slice(PLATFORM)
    data = ShopData(trades=_trades(world, s), members=_members(world, s), reports=_reports(world, s),
                    touches=_touches(s))
    _catalog(world, s, data)
    return data
