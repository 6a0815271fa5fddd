"""TOP records -> canonical tables.

One mapper per stream, applied record by record with
:func:`omniplug.rowmap.map_records` so that one malformed record is rejected
with its reason while the rest of its page lands. Conventions: TOP times are
China wall time and become UTC; money is yuan strings kept exact; ids (trade
ids reach ~4e18, above 2**53) become exact strings; a raw phone number is
hashed here and never leaves this module.

Back-office export files are read into records with the same field names
(:mod:`omniplug_tmall.export`), so they go through the same mappers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.fields import china_time_to_utc, exact_id, phone_sha256, yuan
from omniplug.rowmap import map_records
from omniplug_tmall.client import PLATFORM, unwrap

__all__ = [
    "ACTION_TYPES", "MAPPERS", "MEDIA_TYPES", "SEARCH_SCENES", "TABLES", "TRADE_STATUS", "TRAFFIC_CHANNELS",
    "map_item", "map_material", "map_member", "map_report", "map_touch", "map_trade", "normalise",
]

Rows = dict[str, list[dict[str, Any]]]

#: TOP trade status -> canonical order status. Closed after payment is a
#: refund; closed before payment (or never paid) is a cancellation.
TRADE_STATUS: dict[str, str] = {
    "WAIT_SELLER_SEND_GOODS": "paid",
    "SELLER_CONSIGNED_PART": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "paid",
    "TRADE_BUYER_SIGNED": "paid",
    "TRADE_FINISHED": "paid",
    "PAID_FORBID_CONSIGN": "paid",
    "TRADE_CLOSED": "refunded",
    "TRADE_CLOSED_BY_TAOBAO": "cancelled",
    "WAIT_BUYER_PAY": "cancelled",
    "TRADE_NO_CREATE_PAY": "cancelled",
    "PAY_PENDING": "cancelled",
}
#: Databank behaviour codes -> canonical event types.
ACTION_TYPES: dict[str, str] = {
    "imp": "impression", "clk": "click", "search": "search", "ipv": "product_view",
    "cart": "add_to_cart", "collect": "favorite",
}
#: Databank traffic types -> canonical channels.
TRAFFIC_CHANNELS: dict[str, str] = {"display": "paid", "search": "search", "natural": "organic"}
#: Alimama (万相台无界) scenes whose spend is search advertising (keyword bidding).
SEARCH_SCENES = frozenset({"onebpSearch"})
#: Alimama material types -> canonical media types.
MEDIA_TYPES: dict[int, str] = {1: "image", 2: "video"}


def _code(mapping: Mapping[str, str], value: Any, what: str) -> str:
    try:
        return mapping[value]
    except KeyError:
        raise InvalidInputError(f"unknown {what} {value!r}; known: {', '.join(sorted(mapping))}") from None


def _optional_id(value: Any) -> str | None:
    return None if value is None or value == "" or value == 0 else exact_id(value)


def _links(left: tuple[str, str], observed_at: datetime, **rights: str | None) -> list[dict[str, Any]]:
    """Identity links from ``left`` (type, value) to each present ``right_type=value``."""
    return [{"platform": PLATFORM, "left_type": left[0], "left_value": left[1], "right_type": kind,
             "right_value": value, "observed_at": observed_at} for kind, value in rights.items() if value]


def map_trade(rec: dict[str, Any]) -> Rows:
    """One trade -> its order row, its line rows and the buyer_open_uid <-> ouid link."""
    order_id = exact_id(rec["tid"])
    order_time = china_time_to_utc(rec["created"])
    uid = rec["buyer_open_uid"]
    if not uid:
        raise InvalidInputError("trade has no buyer_open_uid (add it to fields=)")
    return {
        "orders": [{
            "order_id": order_id, "platform": PLATFORM, "id_type": "tmall_buyer_open_uid", "id_value": uid,
            "order_time": order_time, "amount": yuan(rec["payment"]), "currency": "CNY",
            "status": _code(TRADE_STATUS, rec["status"], "trade status"),
        }],
        "order_items": [
            {"order_id": order_id, "platform": PLATFORM, "line_id": exact_id(item["oid"]),
             "product_id": _optional_id(item.get("num_iid")), "quantity": int(item["num"]),
             "amount": yuan(item["payment"])}
            for item in unwrap(rec, "orders", "order")
        ],
        "identity_links": _links(("tmall_buyer_open_uid", uid), order_time, tmall_ouid=rec.get("ouid"),
                                 phone_sha256=phone_sha256(rec.get("receiver_mobile"))),
    }


def map_member(rec: dict[str, Any]) -> Rows:
    """One CRM member -> ouid <-> phone hash and ouid <-> omid links, observed when they joined."""
    ouid = rec["ouid"]
    if not ouid:
        raise InvalidInputError("member has no ouid")
    joined = china_time_to_utc(rec["join_time"])
    return {"identity_links": _links(("tmall_ouid", ouid), joined, phone_sha256=phone_sha256(rec.get("mobile")),
                                     tmall_omid=rec.get("omid"))}


def map_report(rec: dict[str, Any]) -> Rows:
    """One Alimama report row (day x campaign x creative) -> one spend row."""
    try:
        day = date.fromisoformat(str(rec["log_date"]))
    except ValueError:
        raise InvalidInputError(f"log_date {rec['log_date']!r} is not a yyyy-MM-dd date") from None
    return {"spend": [{
        "date": day, "platform": PLATFORM,
        "channel": "search" if rec.get("biz_code") in SEARCH_SCENES else "paid",
        "campaign_id": _optional_id(rec.get("campaign_id")), "kol_id": None,
        "material_id": _optional_id(rec.get("creative_id")),
        "spend": yuan(rec["charge"]), "impressions": int(rec.get("ad_pv") or 0), "clicks": int(rec.get("click") or 0),
    }]}


def map_touch(rec: dict[str, Any]) -> Rows:
    """One Databank touch record -> one touchpoint of the shop's ouid."""
    return {"touchpoints": [{
        "event_id": exact_id(rec["touch_id"]), "platform": PLATFORM, "id_type": "tmall_ouid", "id_value": rec["ouid"],
        "event_time": china_time_to_utc(rec["action_time"]),
        "event_type": _code(ACTION_TYPES, rec["action_type"], "Databank action_type"),
        "channel": _code(TRAFFIC_CHANNELS, rec["traffic_type"], "Databank traffic_type"),
        "campaign_id": _optional_id(rec.get("campaign_id")), "kol_id": None,
        "material_id": _optional_id(rec.get("creative_id")), "product_id": _optional_id(rec.get("item_id")),
    }]}


def _brand(props_name: str | None) -> str | None:
    """The 品牌 (brand) value of an item's ``props_name`` (``pid:vid:pname:vname;...``)."""
    for prop in (props_name or "").split(";"):
        parts = prop.split(":", 3)
        if len(parts) == 4 and parts[2] == "品牌":
            return parts[3]
    return None


def map_item(rec: dict[str, Any]) -> Rows:
    """One on-sale item (with its category name resolved) -> one product."""
    return {"products": [{
        "product_id": exact_id(rec["num_iid"]), "platform": PLATFORM, "sku": rec.get("outer_id") or None,
        "title": rec.get("title"), "brand": _brand(rec.get("props_name")), "category": rec.get("cat_name"),
        "price": yuan(rec["price"]),
    }]}


def map_material(rec: dict[str, Any]) -> Rows:
    """One Alimama creative material -> one materials row (``uri`` is the platform's media URL)."""
    kind = int(rec["material_type"])
    if kind not in MEDIA_TYPES:
        raise InvalidInputError(f"unknown material_type {kind!r}; known: {sorted(MEDIA_TYPES)}")
    return {"materials": [{
        "material_id": exact_id(rec["material_id"]), "platform": PLATFORM, "media_type": MEDIA_TYPES[kind],
        "uri": rec.get("video_url") or rec.get("img_url"), "title": rec.get("title"),
        "campaign_id": _optional_id(rec.get("campaign_id")), "kol_id": None,
        "created_at": china_time_to_utc(rec["create_time"]),
    }]}


MAPPERS = {"orders": map_trade, "members": map_member, "ad_reports": map_report, "touchpoints": map_touch,
           "products": map_item, "materials": map_material}
#: Canonical tables per stream (the first is the stream's primary table).
TABLES: dict[str, tuple[str, ...]] = {
    "orders": ("orders", "order_items", "identity_links"),
    "members": ("identity_links",),
    "ad_reports": ("spend",),
    "touchpoints": ("touchpoints",),
    "products": ("products",),
    "materials": ("materials",),
}


def normalise(stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
    """Normalise one raw batch of ``stream``; unmappable records go to ``rejects`` with the reason."""
    out = map_records(batch, MAPPERS[stream], platform=PLATFORM, stream=stream, tables=TABLES[stream])
    links = out.get("identity_links")
    if links is not None and links.num_rows > 1:
        # TOP lists trades newest first, so one page sees a buyer's link newest
        # first too; within a batch the framework keeps the last row of a key,
        # so order the sightings oldest to newest.
        out["identity_links"] = links.sort_by([("observed_at", "ascending")])
    return out
