"""JD records -> canonical tables.

One mapper per stream, each taking one raw record in JD's own field names
(as the gateway returns it, or as :mod:`omniplug_jd.export` reads it from a
back-office file) and returning canonical rows. China wall times become
UTC, yuan strings and numbers become exact decimals, ids become exact
strings (JD sku ids exceed 2**53), and the member's phone leaves this module
only as its SHA-256.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.fields import china_time_to_utc, exact_id, phone_sha256, yuan
from omniplug.rowmap import map_records

__all__ = ["BEHAVIOUR", "MAPPERS", "ORDER_STATUS", "TABLES", "TRAFFIC", "normalise", "parse_day"]

PLATFORM = "jd"
ID_TYPE = "jd_pin"
Rows = dict[str, list[dict[str, Any]]]

#: ``orderState`` -> canonical status. JD has no "refunded" state: an order
#: under an after-sales refund is ``LOCKED``; cancellation is ``TRADE_CANCELED``.
ORDER_STATUS = {
    "WAIT_SELLER_STOCK_OUT": "paid", "WAIT_SELLER_DELIVERY": "paid", "WAIT_GOODS_RECEIVE_CONFIRM": "paid",
    "FINISHED_L": "paid", "PAUSE": "paid", "POP_ORDER_PAUSE": "paid",
    "LOCKED": "refunded", "TRADE_CANCELED": "cancelled",
}
#: Crowd-export behaviour codes -> canonical event types.
BEHAVIOUR = {"expose": "impression", "click": "click", "search": "search", "browse": "product_view",
             "cart": "add_to_cart"}
#: Crowd-export traffic sources -> canonical channels.
TRAFFIC = {"ad": "paid", "search": "search", "natural": "organic"}
#: Ad report ``campaignType``: 2 is keyword search (快车/搜索), the rest display.
SEARCH_CAMPAIGN_TYPE = 2
#: Creative ``creativeType`` -> canonical media type.
CREATIVE_TYPE = {1: "image", 2: "video"}


def _lookup(table: Mapping[Any, str], value: Any, what: str) -> str:
    try:
        return table[value]
    except (KeyError, TypeError):
        raise InvalidInputError(f"unknown {what} {value!r}; known: {', '.join(map(str, table))}") from None


def _optional_id(value: Any) -> str | None:
    return None if value is None or value == "" else exact_id(value)


def _count(value: Any) -> int:
    """A count as JD sends it (int or digit string); floats and fractions are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise InvalidInputError(f"count {value!r} must be a whole number")
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidInputError(f"count {value!r} is not a number") from None
    if number != number.to_integral_value():
        raise InvalidInputError(f"count {value!r} is not a whole number")
    return int(number)


def parse_day(value: Any) -> date:
    """A report day: ``20261001`` (the API's yyyyMMdd number) or ``'2026-10-01'`` (the export's)."""
    text = str(value).strip()
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"report date {value!r} is not yyyyMMdd or yyyy-MM-dd") from None


def map_order(rec: dict[str, Any]) -> Rows:
    """One ``orderInfo`` -> its order row and one item row per ``itemInfoList`` entry.

    JD items carry no line id: line ids are ``<orderId>-<position>``
    (1-based, in JD's item order). A line's amount is ``jdPrice x itemTotal``
    minus the line's ``sellerDiscount``; the order's is ``orderSellerPrice``
    (goods after seller discounts, freight excluded).
    """
    order_id = exact_id(rec["orderId"])
    items = []
    for position, item in enumerate(rec.get("itemInfoList") or [], start=1):
        quantity = _count(item["itemTotal"])
        amount = yuan(item["jdPrice"]) * quantity - yuan(item.get("sellerDiscount") or "0")
        items.append({"order_id": order_id, "platform": PLATFORM, "line_id": f"{order_id}-{position}",
                      "product_id": exact_id(item["skuId"]), "quantity": quantity, "amount": yuan(amount)})
    return {
        "orders": [{
            "order_id": order_id, "platform": PLATFORM, "id_type": ID_TYPE, "id_value": rec["pin"],
            "order_time": china_time_to_utc(rec["orderStartTime"]), "amount": yuan(rec["orderSellerPrice"]),
            "currency": "CNY", "status": _lookup(ORDER_STATUS, rec["orderState"], "orderState"),
        }],
        "order_items": items,
    }


def map_member(rec: dict[str, Any]) -> Rows:
    """One brand member -> the pin <-> phone link, observed when the member card was opened."""
    hashed = phone_sha256(rec.get("mobile"))
    if hashed is None:
        raise InvalidInputError("member has no mainland mobile number")
    return {"identity_links": [{
        "platform": PLATFORM, "left_type": ID_TYPE, "left_value": rec["customer_pin"],
        "right_type": "phone_sha256", "right_value": hashed,
        "observed_at": china_time_to_utc(rec["open_card_time"]),
    }]}


def map_ad_row(rec: dict[str, Any]) -> Rows:
    """One daily creative row of the 京准通 report -> one spend row."""
    channel = "search" if _count(rec.get("campaignType") or 0) == SEARCH_CAMPAIGN_TYPE else "paid"
    return {"spend": [{
        "date": parse_day(rec["date"]), "platform": PLATFORM, "channel": channel,
        "campaign_id": _optional_id(rec.get("campaignId")), "kol_id": None,
        "material_id": _optional_id(rec.get("adId")), "spend": yuan(rec["cost"]),
        "impressions": _count(rec["impressions"]), "clicks": _count(rec["clicks"]),
    }]}


def map_sku(rec: dict[str, Any]) -> Rows:
    """One sku of ``searchSkuList`` -> one product row (``skuId`` kept exact)."""
    return {"products": [{
        "product_id": exact_id(rec["skuId"]), "platform": PLATFORM, "sku": rec.get("outerId"),
        "title": rec.get("skuName") or rec.get("wareTitle"), "brand": rec.get("brandName"),
        "category": rec.get("categoryName"), "price": yuan(rec["jdPrice"]),
    }]}


def map_touch(rec: dict[str, Any]) -> Rows:
    """One behaviour record of the brand crowd export -> one touchpoint."""
    return {"touchpoints": [{
        "event_id": exact_id(rec["eventId"]), "platform": PLATFORM, "id_type": ID_TYPE, "id_value": rec["pin"],
        "event_time": china_time_to_utc(rec["eventTime"]),
        "event_type": _lookup(BEHAVIOUR, rec["behaviorType"], "behaviorType"),
        "channel": _lookup(TRAFFIC, rec["trafficSource"], "trafficSource"),
        "campaign_id": _optional_id(rec.get("campaignId")), "kol_id": None,
        "material_id": _optional_id(rec.get("creativeId")), "product_id": _optional_id(rec.get("skuId")),
    }]}


def map_creative(rec: dict[str, Any]) -> Rows:
    """One 京准通 creative -> one material (``uri`` is the creative's image URL)."""
    return {"materials": [{
        "material_id": exact_id(rec["creativeId"]), "platform": PLATFORM,
        "media_type": _lookup(CREATIVE_TYPE, _count(rec["creativeType"]), "creativeType"),
        "uri": rec.get("imgUrl"), "title": rec.get("creativeName"),
        "campaign_id": _optional_id(rec.get("campaignId")), "kol_id": None,
        "created_at": china_time_to_utc(rec["createTime"]),
    }]}


MAPPERS = {"orders": map_order, "members": map_member, "ad_reports": map_ad_row, "products": map_sku,
           "touchpoints": map_touch, "materials": map_creative}
TABLES = {"orders": ("orders", "order_items"), "members": ("identity_links",), "ad_reports": ("spend",),
          "products": ("products",), "touchpoints": ("touchpoints",), "materials": ("materials",)}


def normalise(stream: str, batch: pa.RecordBatch | pa.Table) -> dict[str, pa.Table]:
    """Normalise one raw batch of ``stream``; unmappable records go to rejects with the reason."""
    return map_records(batch, MAPPERS[stream], platform=PLATFORM, stream=stream, tables=TABLES[stream])
