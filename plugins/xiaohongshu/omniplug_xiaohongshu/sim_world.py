"""The synthetic world's Xiaohongshu slice, rendered as the three APIs would serve it.

This is the exact inverse of :mod:`omniplug_xiaohongshu.normalise`: canonical
rows become Juguang report rows and creatives (yuan, numeric ids, China wall
time), Pugongying notes (fen, China wall time), crowd events (Chinese
labels) and Ark orders (fen, ms epochs, raw receiver phones). Ids Juguang
sends as numbers and the world does not fix (creative and unit ids) are
derived from the world's ids and lie above 2**53, so a client that parses
JSON numbers through floats would corrupt them.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.world import World
from omniplug.world.media_server import MediaSource, media_file_name
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.codes import PLATFORM

__all__ = ["SimData", "big_id", "ms", "render_world", "wall"]

_VIEWS = {"impression", "video_view", "note_read"}
_WORLD_STATUS_ARK = {"paid": 7, "refunded": 8, "cancelled": 9}


def wall(dt: datetime) -> str:
    """China wall-clock ``yyyy-MM-dd HH:mm:ss``."""
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def ms(dt: datetime) -> int:
    """Epoch milliseconds."""
    return int(dt.timestamp() * 1000)


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:8], "big")


def big_id(kind: str, key: str) -> int:
    """A stable id above 2**53 (and below 2**63) derived from ``key``."""
    return 2**60 + _digest(kind, key) % 2**59


def _fen(amount: Decimal) -> int:
    return int(amount * 100)


@dataclass
class KolNote:
    """A KOL note: its fixed facts, and its readers' activity for T+1 snapshots."""

    record: dict[str, Any]
    published: datetime
    created: datetime
    # (event_time, event_type) of the note's KOL touches, sorted by time.
    touches: list[tuple[datetime, str]] = field(default_factory=list)

    def snapshot(self, through: datetime, scale: int) -> dict[str, int]:
        """Cumulative metrics of activity before ``through`` (scaled like the world's spend)."""
        upto = self.touches[: bisect.bisect_left(self.touches, (through, ""))]
        count: dict[str, int] = defaultdict(int)
        for _, kind in upto:
            count[kind] += 1
        views = sum(count[k] for k in _VIEWS) * scale
        likes, favs, comments, shares = (count[k] * scale for k in ("like", "favorite", "comment", "share"))
        return {"imp_num": views, "read_num": views, "like_num": likes, "fav_num": favs, "cmt_num": comments,
                "share_num": shares, "engage_num": likes + favs + comments + shares,
                "content_comp_click_num": count["click"] * scale}


@dataclass
class SimData:
    """Everything the simulator serves, already in the platforms' shapes."""

    report_rows: list[dict[str, Any]]
    creatives: list[dict[str, Any]]
    notes: list[KolNote]
    events: list[tuple[datetime, dict[str, Any]]]
    orders: list[dict[str, Any]]
    media: dict[str, MediaSource]  # material_id -> the creative and edit its file is drawn from


def _media_path(material_id: str, source: MediaSource) -> str:
    """The simulator path serving a material: ``/media/<id>.webp`` (``.mp4`` for video notes)."""
    return f"/media/{media_file_name(PLATFORM, material_id, source)}"


def render_world(world: World, *, advertiser_id: int, brand_user_id: str) -> SimData:
    """Render ``world.slice("xiaohongshu")`` into Juguang, Pugongying and Ark records."""
    tables = {name: table.to_pylist() for name, table in world.slice(PLATFORM).items()}
    catalog = world.catalog.on(PLATFORM)
    campaigns = {c.campaign_id: c for c in catalog.campaigns}
    kols = {k.kol_id: k for k in catalog.kols}
    materials = {m["material_id"]: m for m in tables["materials"]}
    truth = {r["material_id"]: r for r in world.truth["truth_materials"].to_pylist() if r["platform"] == PLATFORM}
    media = {mid: MediaSource(int(truth[mid]["creative_id"]), int(truth[mid]["variant"]), m["media_type"])
             for mid, m in materials.items()}

    report_rows = []
    for row in sorted((r for r in tables["spend"] if r["channel"] in ("paid", "search")),
                      key=lambda r: (r["date"], r["campaign_id"], r["material_id"] or "")):
        campaign = campaigns[row["campaign_id"]]
        out: dict[str, Any] = {
            "time": row["date"].isoformat(), "campaign_id": int(row["campaign_id"]), "campaign_name": campaign.name,
            "unit_id": big_id("unit", row["campaign_id"]), "unit_name": f"{campaign.name}-单元1",
            "placement": 2 if row["channel"] == "search" else 1,
            "fee": float(row["spend"]), "impression": row["impressions"], "click": row["clicks"],
            "ctr": round(row["clicks"] / row["impressions"] * 100, 2) if row["impressions"] else 0.0,
            "cpm": round(float(row["spend"]) / row["impressions"] * 1000, 2) if row["impressions"] else 0.0,
        }
        if row["material_id"]:
            out.update(creativity_id=big_id("creative", row["material_id"]), note_id=row["material_id"],
                       creativity_name=materials[row["material_id"]]["title"])
        report_rows.append(out)

    creatives = [{
        "advertiser_id": advertiser_id, "campaign_id": int(m["campaign_id"]),
        "unit_id": big_id("unit", m["campaign_id"]), "creative_id": big_id("creative", mid),
        "creative_name": m["title"], "creativity_enable": 1, "creativity_status": 8, "audit_status": 2,
        "creativity_create_time": wall(m["created_at"]), "note_id": mid,
        "note_type": codes.inverse(codes.NOTE_TYPE_MEDIA)[m["media_type"]],
        "image": _media_path(mid, media[mid]),
    } for mid, m in sorted(materials.items()) if m["campaign_id"] is not None]

    kol_spend = {r["material_id"]: r for r in tables["spend"] if r["channel"] == "kol"}
    touches: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for t in tables["touchpoints"]:
        if t["channel"] == "kol" and t["kol_id"] and t["material_id"]:
            touches[t["material_id"]].append((t["event_time"], t["event_type"]))
    notes = []
    for mid, m in sorted(materials.items()):
        if m["kol_id"] is None:
            continue
        spend, kol = kol_spend[mid], kols[m["kol_id"]]
        published = datetime.combine(spend["date"], datetime.min.time(), CHINA_TZ) + timedelta(
            seconds=9 * 3600 + _digest("publish", mid) % (10 * 3600))
        record = {
            "brand_user_id": brand_user_id, "kol_id": m["kol_id"], "kol_nick_name": kol.name,
            "note_id": mid, "note_title": m["title"],
            "note_type": codes.inverse(codes.NOTE_TYPE_MEDIA)[m["media_type"]],
            "note_create_time": wall(m["created_at"]), "note_publish_time": wall(published),
            "note_link": f"https://www.xiaohongshu.com/explore/{mid}", "note_cover": _media_path(mid, media[mid]),
            "order_id": f"pgy{big_id('order', mid)}", "kol_price": _fen(spend["spend"]),
            "total_platform_price": _fen(spend["spend"]) // 10, "cooperate_type": 1,
        }
        notes.append(KolNote(record, published, m["created_at"], sorted(touches[mid])))

    action_of = codes.inverse(codes.ACTION_EVENT)
    source_of = codes.inverse(codes.SOURCE_CHANNEL)
    events = []
    for t in sorted(tables["touchpoints"], key=lambda t: (t["event_time"], t["event_id"])):
        event: dict[str, Any] = {"event_id": t["event_id"], "user_id": t["id_value"],
                                 "event_time": wall(t["event_time"]),
                                 "action": action_of[t["event_type"]], "source": source_of[t["channel"]]}
        if t["campaign_id"]:
            event["campaign_id"] = int(t["campaign_id"])
        for key, name in (("kol_id", "kol_id"), ("note_id", "material_id"), ("item_id", "product_id")):
            if t[name]:
                event[key] = t[name]
        events.append((t["event_time"], event))

    return SimData(report_rows, creatives, notes, events, _orders(world, tables), media)


def _orders(world: World, tables: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Ark orders (summary and detail fields together), oldest first."""
    titles = {p.product_id: p.title for p in world.catalog.on(PLATFORM).products}
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in tables["order_items"]:
        lines[item["order_id"]].append(item)
    orders = []
    for o in sorted(tables["orders"], key=lambda o: (o["order_time"], o["order_id"])):
        created = o["order_time"]
        status = _WORLD_STATUS_ARK[o["status"]]
        paid = created + timedelta(seconds=20 + _digest("paid", o["order_id"]) % 280)
        updated = created + timedelta(minutes=5 + _digest("update", o["order_id"]) % 175)
        skus = sorted(lines[o["order_id"]], key=lambda i: int(i["line_id"].rsplit("-", 1)[1]))
        record: dict[str, Any] = {
            "orderId": o["order_id"], "orderType": 1, "orderStatus": status, "createdTime": ms(created),
            "updateTime": ms(updated), "userId": o["id_value"], "totalPayAmount": _fen(o["amount"]),
            "skuList": [{"skuId": i["product_id"], "skuName": titles.get(i["product_id"], ""),
                         "skuQuantity": i["quantity"], "totalPaidAmount": _fen(i["amount"])} for i in skus],
        }
        if status != 9:  # a cancelled order was never paid
            record["paidTime"] = ms(paid)
        phone = world.order_phones.get((PLATFORM, o["order_id"]))
        if phone is not None:
            record["receiverPhone"] = phone
        orders.append(record)
    return orders


def day_start(day: date) -> datetime:
    """China midnight starting ``day``, as aware UTC."""
    return datetime.combine(day, datetime.min.time(), CHINA_TZ).astimezone(UTC)
