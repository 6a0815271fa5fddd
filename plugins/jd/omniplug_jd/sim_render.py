"""The JD slice of the synthetic world, rendered in JD's own shapes (the inverse of normalise).

Each ``render_*`` function returns the raw records one JD API would serve:
China wall-time strings, yuan as strings (orders) or numbers (ads, skus),
sku ids as JSON numbers above 2**53 where JD sends numbers, the member's raw
phone (normalise hashes it), and the consignee masked as JD masks it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pyarrow as pa

from omniplug.fields import CHINA_TZ
from omniplug.world import World
from omniplug_jd.normalise import BEHAVIOUR, ORDER_STATUS, SEARCH_CAMPAIGN_TYPE, TRAFFIC

__all__ = ["Rendered", "render"]

Record = dict[str, Any]
_PAID_STATES = ("FINISHED_L", "WAIT_GOODS_RECEIVE_CONFIRM", "WAIT_SELLER_STOCK_OUT")
_STATE_OF = {"refunded": "LOCKED", "cancelled": "TRADE_CANCELED"}
_EVENT_CODE = {v: k for k, v in BEHAVIOUR.items()}
_CHANNEL_CODE = {v: k for k, v in TRAFFIC.items()}
assert set(_STATE_OF.values()) | set(_PAID_STATES) <= set(ORDER_STATUS)


def _pick(options: tuple[str, ...], key: str) -> str:
    """A deterministic choice keyed by an id (stable across runs and processes)."""
    return options[int(hashlib.md5(key.encode()).hexdigest(), 16) % len(options)]


def _wall(value: Any) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _number(value: Decimal) -> float:
    """A yuan amount as a JSON number, as JD's ads and sku APIs send it (2 places survive the float)."""
    return float(value)


def _rows(table: pa.Table) -> list[Record]:
    return table.to_pylist()


class Rendered:
    """Every JD record of the world, per stream, in the order JD serves them.

    Attributes:
        orders: ``orderInfo`` objects (all optional fields), by (orderStartTime, orderId).
        members: ``crm_members`` entries with the raw ``mobile``.
        ad_rows: daily creative rows of the 京准通 report, by date.
        skus: ``searchSkuList`` entries.
        touches: brand crowd behaviour records, by (eventTime, eventId).
        creatives: 京准通 creatives with their image URL under ``base_url``.
    """

    def __init__(self, world: World, media_url: Callable[[str], str]) -> None:
        tables = world.slice("jd")
        products = {p["product_id"]: p for p in _rows(tables["products"])}
        campaigns = {c.campaign_id: c for c in world.catalog.campaigns if c.platform == "jd"}
        self.orders = _orders(world, tables, products)
        self.members = _members(world, tables)
        self.ad_rows = _ad_rows(tables, campaigns)
        self.skus = _skus(tables)
        self.touches = _touches(tables)
        self._materials = _rows(tables["materials"])
        self._media_url = media_url

    @property
    def creatives(self) -> list[Record]:
        """Creatives, rendered per request: their ``imgUrl`` follows the simulator's address."""
        return [{
            "creativeId": m["material_id"], "campaignId": int(m["campaign_id"]) if m["campaign_id"] else None,
            "creativeName": m["title"], "creativeType": 2 if m["media_type"] == "video" else 1,
            "imgUrl": self._media_url(m["material_id"]),
            "createTime": _wall(m["created_at"]),
        } for m in sorted(self._materials, key=lambda m: m["material_id"])]


def render(world: World, media_url: Callable[[str], str]) -> Rendered:
    """Render the JD slice of ``world``; ``media_url(material_id)`` is where a creative's file is served."""
    return Rendered(world, media_url)


def _orders(world: World, tables: dict[str, pa.Table], products: dict[str, Record]) -> list[Record]:
    items: dict[str, list[Record]] = defaultdict(list)
    for line in _rows(tables["order_items"]):
        items[line["order_id"]].append(line)
    phones = {p.ids["jd"]["jd_pin"]: p.phone for p in world.people if "jd" in p.ids}
    out = []
    for order in _rows(tables["orders"]):
        lines = sorted(items[order["order_id"]], key=lambda line: int(line["line_id"].rsplit("-", 1)[1]))
        infos, gross, discount = [], Decimal(0), Decimal(0)
        for line in lines:
            product = products[line["product_id"]]
            list_amount = product["price"] * line["quantity"]
            gross += list_amount
            discount += list_amount - line["amount"]
            infos.append({
                "skuId": line["product_id"], "outerSkuId": product["sku"], "skuName": product["title"],
                "jdPrice": _money(product["price"]), "itemTotal": str(line["quantity"]),
                "sellerDiscount": _money(list_amount - line["amount"]),
            })
        when = _wall(order["order_time"])
        state = _STATE_OF.get(order["status"]) or _pick(_PAID_STATES, order["order_id"])
        phone = phones.get(order["id_value"], "")
        out.append({
            "orderId": order["order_id"], "venderId": "10086", "pin": order["id_value"], "orderState": state,
            "orderStartTime": when, "modified": when, "paymentConfirmTime": when,
            "orderTotalPrice": _money(gross), "sellerDiscount": _money(discount),
            "orderSellerPrice": _money(order["amount"]), "orderPayment": _money(order["amount"]),
            "freightPrice": "0.00",
            # JD masks consignee data; the simulator never serves a raw receiver phone.
            "consigneeInfo": {"fullname": "顾*", "mobile": f"{phone[:3]}****{phone[-4:]}" if phone else "",
                              "fullAddress": "上海市****"},
            "itemInfoList": infos,
        })
    out.sort(key=lambda o: (o["orderStartTime"], o["orderId"]))
    return out


def _members(world: World, tables: dict[str, pa.Table]) -> list[Record]:
    phones = world.phone_of_hash()
    out = []
    for link in _rows(tables["identity_links"]):
        if link["left_type"] != "jd_pin" or link["right_type"] != "phone_sha256":
            continue
        pin = link["left_value"]
        out.append({"customer_pin": pin, "grade": _pick(("1", "2", "3", "4"), pin),
                    "mobile": phones[link["right_value"]], "open_card_time": _wall(link["observed_at"])})
    out.sort(key=lambda m: m["customer_pin"])
    return out


def _ad_rows(tables: dict[str, pa.Table], campaigns: dict[str, Any]) -> list[Record]:
    out = []
    for row in _rows(tables["spend"]):
        campaign = campaigns[row["campaign_id"]]
        out.append({
            "date": int(row["date"].strftime("%Y%m%d")), "campaignId": int(row["campaign_id"]),
            "campaignName": campaign.name,
            "campaignType": SEARCH_CAMPAIGN_TYPE if row["channel"] == "search" else 1,
            "adId": row["material_id"], "adName": f"创意 {row['material_id']}" if row["material_id"] else None,
            "impressions": row["impressions"], "clicks": row["clicks"], "cost": _number(row["spend"]),
        })
    out.sort(key=lambda r: (r["date"], r["campaignId"], r["adId"] or ""))
    return out


def _skus(tables: dict[str, pa.Table]) -> list[Record]:
    return [{
        "skuId": int(p["product_id"]), "wareId": int(p["product_id"]) // 1000, "skuName": p["title"],
        "wareTitle": p["title"], "outerId": p["sku"], "jdPrice": _number(p["price"]),
        "brandName": p["brand"], "categoryName": p["category"], "status": 1,
    } for p in sorted(_rows(tables["products"]), key=lambda p: p["sku"])]


def _touches(tables: dict[str, pa.Table]) -> list[Record]:
    out = []
    for t in _rows(tables["touchpoints"]):
        out.append({
            "eventId": t["event_id"], "pin": t["id_value"], "eventTime": _wall(t["event_time"]),
            "behaviorType": _EVENT_CODE[t["event_type"]], "trafficSource": _CHANNEL_CODE[t["channel"]],
            "campaignId": int(t["campaign_id"]) if t["campaign_id"] else None, "creativeId": t["material_id"],
            "skuId": int(t["product_id"]) if t["product_id"] else None,
        })
    out.sort(key=lambda t: (t["eventTime"], t["eventId"]))
    return out
