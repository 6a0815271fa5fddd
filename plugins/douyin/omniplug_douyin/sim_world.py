"""The world's Douyin slice rendered as the four APIs hold it: the inverse of normalise.

Everything here is plain data computed once per simulator: China-time
strings and epoch seconds, fen integers, yuan floats, ids as JSON numbers
above 2**53, raw receiver phones behind Doudian ciphertexts. Media fields
(``url``, ``signature``, ``size``) are added when a record is served.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.testing.simulator import Clock
from omniplug.world import World
from omniplug_douyin.common import china_time
from omniplug_douyin.ocean_streams import AD_TYPE_CHANNEL, EVENT_TYPES, TRAFFIC_SOURCES

__all__ = ["DouyinView", "RouteState", "render_view", "report_day"]

_EVENT_CODES = {v: k for k, v in EVENT_TYPES.items()}
_SOURCE_CODES = {v: k for k, v in TRAFFIC_SOURCES.items()}
_AD_TYPES = {v: k for k, v in AD_TYPE_CHANNEL.items()}
_PAID_STATUS = ((2, "备货中"), (3, "已发货"), (5, "已完成"))


@dataclass
class DouyinView:
    """Platform-shaped records of the Douyin slice (see the module docstring)."""

    projects: list[dict[str, Any]] = field(default_factory=list)
    promotions: list[dict[str, Any]] = field(default_factory=list)
    library: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"image": [], "video": []})
    report_rows: list[dict[str, Any]] = field(default_factory=list)
    touches: list[dict[str, Any]] = field(default_factory=list)
    demands: list[dict[str, Any]] = field(default_factory=list)
    star_orders: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    star_reports: dict[int, dict[str, Any]] = field(default_factory=dict)
    shop_orders: list[dict[str, Any]] = field(default_factory=list)
    ciphers: dict[str, str] = field(default_factory=dict)
    fans: list[dict[str, Any]] = field(default_factory=list)


class RouteState:
    """What every route mixin of the simulator reads from the simulator it is mixed into."""

    clock: Clock
    view: DouyinView
    #: ``_take_fault(api)``: the next scheduled ``(code, message)`` of that gateway, if any.
    _take_fault: Callable[[str], tuple[int, str] | None]
    #: ``_corrupt(stream, records)``: the records, one corrupted if a malformed record is pending.
    _corrupt: Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]


def _fen(amount: Decimal) -> int:
    return int(amount * 100)


def _num(value: str | None) -> int | None:
    return None if value is None else int(value)


def render_view(world: World) -> DouyinView:
    """Render ``world.slice("douyin")`` in the shapes of Ocean Engine, Xingtu, Doudian and the open platform."""
    rng = random.Random(f"douyin-simulator-{world.config.seed}")
    tables = {name: table.to_pylist() for name, table in world.slice("douyin").items()}
    view = DouyinView()
    materials = {m["material_id"]: m for m in tables["materials"]}
    _ocean(world, tables, materials, view, rng)
    _xingtu(world, tables, materials, view, rng)
    _doudian(world, tables, view, rng)
    _fans(tables, view)
    return view


def _ocean(world: World, tables: dict[str, list[dict[str, Any]]], materials: dict[str, dict[str, Any]],
           view: DouyinView, rng: random.Random) -> None:
    campaigns = world.catalog.on("douyin").campaigns
    view.projects = [{"project_id": int(c.campaign_id), "name": c.name, "ad_type": _AD_TYPES[c.channel],
                      "landing_type": "LINK", "status": "PROJECT_STATUS_ENABLE"} for c in campaigns]
    by_campaign: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in sorted(materials.values(), key=lambda m: (m["created_at"], m["material_id"])):
        if m["kol_id"] is not None:
            continue
        kind = m["media_type"]
        file_id = (f"web.business.image/{rng.getrandbits(64):016x}" if kind == "image"
                   else f"v0d00f{rng.getrandbits(80):020x}")
        ext = "jpg" if kind == "image" else "mp4"
        record: dict[str, Any] = {"id": file_id, "material_id": int(m["material_id"]), "format": ext,
                                  "create_time": china_time(m["created_at"]), "filename": f"{m['title']}.{ext}"}
        view.library[kind].append(record)
        by_campaign[m["campaign_id"]].append({"kind": kind, "id": file_id, "material_id": int(m["material_id"])})
    for c in campaigns:
        files = by_campaign.get(c.campaign_id)
        if not files:
            continue
        view.promotions.append({
            "promotion_id": rng.randrange(7_100_000_000_000_000_000, 7_200_000_000_000_000_000),
            "project_id": int(c.campaign_id), "name": f"{c.name}-单元",
            "promotion_materials": {
                "video_material_list": [{"video_id": f["id"], "material_id": f["material_id"]}
                                        for f in files if f["kind"] == "video"],
                "image_material_list": [{"image_mode": "CREATIVE_IMAGE_MODE_LARGE",
                                         "images": [{"image_id": f["id"], "material_id": f["material_id"]}]}
                                        for f in files if f["kind"] == "image"],
            },
        })
    for s in sorted((s for s in tables["spend"] if s["channel"] in _AD_TYPES),
                    key=lambda s: (s["date"], s["campaign_id"], s["material_id"] or "")):
        view.report_rows.append({
            "dimensions": {"stat_time_day": s["date"].isoformat(), "cdp_project_id": s["campaign_id"],
                           "material_id": s["material_id"] or "0"},
            "metrics": {"stat_cost": float(s["spend"]), "show_cnt": s["impressions"], "click_cnt": s["clicks"]},
        })
    for t in sorted(tables["touchpoints"], key=lambda t: (t["event_time"], t["event_id"])):
        view.touches.append({
            "event_id": int(t["event_id"]), "open_id": t["id_value"], "event_time": china_time(t["event_time"]),
            "event_type": _EVENT_CODES[t["event_type"]], "traffic_source": _SOURCE_CODES[t["channel"]],
            "project_id": _num(t["campaign_id"]), "star_author_id": _num(t["kol_id"]),
            "material_id": _num(t["material_id"]), "product_id": _num(t["product_id"]),
        })


def _xingtu(world: World, tables: dict[str, list[dict[str, Any]]], materials: dict[str, dict[str, Any]],
            view: DouyinView, rng: random.Random) -> None:
    kol_spend: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in tables["spend"]:
        if s["channel"] == "kol":
            kol_spend[s["kol_id"]].append(s)
    opened = world.config.start - timedelta(days=7)
    for kol in world.catalog.on("douyin").kols:
        rows = sorted(kol_spend.get(kol.kol_id, []), key=lambda s: s["material_id"])
        if not rows:
            continue
        demand_id = rng.randrange(7_200_000_000_000_000_000, 7_300_000_000_000_000_000)
        view.demands.append({"demand_id": demand_id, "title": f"Lumière × {kol.name} 种草",
                             "create_time": china_time(opened),
                             "component_type": "STAR_VIDEO", "universal_settlement_type": "FIXED_PRICE"})
        orders = []
        for s in rows:
            material = materials[s["material_id"]]
            order_id = rng.randrange(7_300_000_000_000_000_000, 7_400_000_000_000_000_000)
            released = datetime.combine(s["date"], datetime.min.time(), CHINA_TZ) + timedelta(hours=20)
            orders.append({"order_id": order_id, "demand_id": demand_id, "title": material["title"],
                           "universal_order_status": "FINISHED", "author_id": int(kol.kol_id), "author_name": kol.name,
                           "create_time": china_time(material["created_at"]), "release_time": china_time(released),
                           "video_id": f"v0200f{rng.getrandbits(80):020x}", "item_id": int(s["material_id"])})
            view.star_reports[order_id] = _star_report(s, world.config.start + timedelta(days=world.config.days))
        view.star_orders[demand_id] = orders


def _star_report(s: dict[str, Any], updated: datetime) -> dict[str, Any]:
    shows, clicks, fen = s["impressions"], s["clicks"], _fen(s["spend"])
    return {
        "spread": {"play": shows, "like": clicks // 2, "comment": clicks // 10, "share": clicks // 20},
        "creative": {"finish_rate": 3120, "five_s_play_rate": 5480, "play_rate": 8850},
        # Rates are percentages times 100 (235 = 2.35 %).
        "convert": {"show": shows, "click": clicks, "ctr": round(clicks * 10000 / shows) if shows else 0},
        "cost_effectiveness": {"price": fen, "cpm": round(fen * 1000 / shows) if shows else 0},
        "comment": {"positive_rate": 8300, "neutral_rate": 1500, "negative_rate": 200, "hot_words": ["好用", "质地"]},
        "update_time": china_time(updated),
    }


def _doudian(world: World, tables: dict[str, list[dict[str, Any]]], view: DouyinView, rng: random.Random) -> None:
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in tables["order_items"]:
        items[item["order_id"]].append(item)
    titles = {p.product_id: p.title for p in world.catalog.on("douyin").products}
    for o in sorted(tables["orders"], key=lambda o: (o["order_time"], o["order_id"])):
        phone = world.order_phones.get(("douyin", o["order_id"]))
        cipher = mask = ""
        if phone:
            digest = hashlib.sha256(f"{world.config.seed}:{o['order_id']}".encode()).hexdigest()
            cipher, mask = f"${digest[:8]}${digest[8:48]}$1$", f"{phone[:3]}****{phone[-4:]}"
            view.ciphers[cipher] = phone
        if o["status"] == "paid":
            status, desc = _PAID_STATUS[int(o["order_id"]) % 3]
        else:
            status, desc = 4, "已取消"
        epoch = int(o["order_time"].timestamp())
        view.shop_orders.append({
            "order_id": o["order_id"], "create_time": epoch, "update_time": epoch + rng.randrange(60, 86400),
            "order_status": status, "order_status_desc": desc, "pay_amount": _fen(o["amount"]),
            "order_amount": _fen(o["amount"]), "doudian_open_id": o["id_value"], "encrypt_post_tel": cipher,
            "mask_post_tel": mask, "cancel_reason": "买家取消" if o["status"] == "cancelled" else "",
            "after_sale_info": {"after_sale_status": 12 if o["status"] == "refunded" else 0,
                                "refund_status": 3 if o["status"] == "refunded" else 0},
            "sku_order_list": [{"order_id": i["line_id"], "parent_order_id": o["order_id"],
                                "product_id": int(i["product_id"]), "product_name": titles.get(i["product_id"], ""),
                                "item_num": i["quantity"], "pay_amount": _fen(i["amount"])}
                               for i in sorted(items[o["order_id"]], key=lambda i: i["line_id"])],
        })


def _fans(tables: dict[str, list[dict[str, Any]]], view: DouyinView) -> None:
    oaids = {link["right_value"]: link["left_value"] for link in tables["identity_links"]
             if link["left_type"] == "oaid"}
    for link in tables["identity_links"]:
        if link["left_type"] == "douyin_openid" and link["right_type"] == "douyin_unionid":
            open_id = link["left_value"]
            fan: dict[str, Any] = {"open_id": open_id, "union_id": link["right_value"],
                                   "nickname": f"用户{open_id[-6:]}", "gender": 0,
                                   "follow_time": int(link["observed_at"].timestamp())}
            if open_id in oaids:
                fan["oaid"] = oaids[open_id]
            view.fans.append(fan)
    view.fans.sort(key=lambda f: (f["follow_time"], f["open_id"]))


def report_day(row: dict[str, Any]) -> date:
    """The day of a rendered report row."""
    return date.fromisoformat(row["dimensions"]["stat_time_day"])
