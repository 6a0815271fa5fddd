"""Xiaohongshu records -> canonical tables.

Per stream, one record maps to:

* ``ad_reports``: a Juguang creative-day report row -> one ``spend`` row (yuan ``fee``);
* ``creatives``: a Juguang creative -> one ``materials`` row (the promoted note);
* ``kol_notes``: a Pugongying note -> one ``materials`` row and one KOL ``spend``
  row (``kol_price`` in fen);
* ``touchpoints``: a crowd behaviour event -> one ``touchpoints`` row;
* ``shop_orders``: an Ark order with its detail -> one ``orders`` row, its
  ``order_items`` and the ``xhs_user_id`` <-> ``phone_sha256`` link (the raw
  receiver phone never leaves this module).

China wall-clock strings and Ark's ms epochs become UTC; ids become exact strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.fields import (
    CHINA_TZ,
    china_time_to_utc,
    epoch_to_utc,
    exact_id,
    fen_to_yuan,
    json_loads_exact,
    phone_sha256,
    yuan,
)
from omniplug.rowmap import map_records
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.codes import ID_TYPE, PLATFORM

Rows = dict[str, list[dict[str, Any]]]


def _code(value: Any, table: Mapping[int, str], what: str) -> str:
    try:
        return table[int(value)]
    except (KeyError, TypeError, ValueError):
        raise InvalidInputError(f"unknown {what} {value!r} (known: {sorted(table)})") from None


def _label(value: Any, table: Mapping[str, str], what: str) -> str:
    if value not in table:
        raise InvalidInputError(f"unknown {what} {value!r} (known: {', '.join(table)})")
    return table[value]


def _optional_id(value: Any) -> str | None:
    """An optional id: missing, null, empty and 0 (Juguang's "none") mean no id."""
    if value is None or value == "" or value == 0:
        return None
    return exact_id(value)


def _count(value: Any) -> int:
    if value is None or isinstance(value, bool) or int(value) != value or int(value) < 0:
        raise InvalidInputError(f"count {value!r} is not a whole non-negative number")
    return int(value)


def _china_date(value: str) -> date:
    """The China-time calendar date of a ``yyyy-MM-dd`` or ``yyyy-MM-dd HH:mm:ss`` string."""
    return china_time_to_utc(value).astimezone(CHINA_TZ).date()


def map_report_row(rec: dict[str, Any]) -> Rows:
    """One creative-day row of the offline report -> one ``spend`` row."""
    return {"spend": [{
        "date": _china_date(rec["time"]), "platform": PLATFORM,
        "channel": _code(rec["placement"], codes.PLACEMENT_CHANNEL, "placement"),
        "campaign_id": exact_id(rec["campaign_id"]), "kol_id": None,
        "material_id": _optional_id(rec.get("note_id")),
        "spend": yuan(rec["fee"]), "impressions": _count(rec["impression"]), "clicks": _count(rec["click"]),
    }]}


def map_creative(rec: dict[str, Any]) -> Rows:
    """One creative -> the ``materials`` row of the note it promotes."""
    return {"materials": [{
        "material_id": exact_id(rec["note_id"]), "platform": PLATFORM,
        "media_type": _code(rec["note_type"], codes.NOTE_TYPE_MEDIA, "note_type"),
        "uri": rec.get("image") or None, "title": rec.get("creative_name"),
        "campaign_id": exact_id(rec["campaign_id"]), "kol_id": None,
        "created_at": china_time_to_utc(rec["creativity_create_time"]),
    }]}


def map_note(rec: dict[str, Any]) -> Rows:
    """One KOL note -> its ``materials`` row and its KOL ``spend`` row (fee booked on the publish day)."""
    note_id, kol_id = exact_id(rec["note_id"]), exact_id(rec["kol_id"])
    return {
        "materials": [{
            "material_id": note_id, "platform": PLATFORM,
            "media_type": _code(rec["note_type"], codes.NOTE_TYPE_MEDIA, "note_type"),
            "uri": rec.get("note_cover") or None, "title": rec.get("note_title"),
            "campaign_id": None, "kol_id": kol_id,
            "created_at": china_time_to_utc(rec["note_create_time"]),
        }],
        "spend": [{
            "date": _china_date(rec["note_publish_time"]), "platform": PLATFORM, "channel": "kol",
            "campaign_id": None, "kol_id": kol_id, "material_id": note_id,
            "spend": fen_to_yuan(rec["kol_price"]),
            "impressions": _count(rec["imp_num"]), "clicks": _count(rec.get("content_comp_click_num") or 0),
        }],
    }


def map_event(rec: dict[str, Any]) -> Rows:
    """One crowd behaviour event -> one ``touchpoints`` row."""
    return {"touchpoints": [{
        "event_id": exact_id(rec["event_id"]), "platform": PLATFORM, "id_type": ID_TYPE,
        "id_value": exact_id(rec["user_id"]), "event_time": china_time_to_utc(rec["event_time"]),
        "event_type": _label(rec["action"], codes.ACTION_EVENT, "action"),
        "channel": _label(rec["source"], codes.SOURCE_CHANNEL, "source"),
        "campaign_id": _optional_id(rec.get("campaign_id")), "kol_id": _optional_id(rec.get("kol_id")),
        "material_id": _optional_id(rec.get("note_id")), "product_id": _optional_id(rec.get("item_id")),
    }]}


def map_order(rec: dict[str, Any]) -> Rows:
    """One Ark order (list summary + detail) -> order, items and the buyer <-> phone link.

    Amounts are fen; times ms epochs. An unpaid order (status 1) is not a
    sale yet and yields nothing; it is fetched again once it changes.
    """
    status_code = int(rec["orderStatus"])
    if status_code == codes.ARK_UNPAID:
        return {}
    order_id = exact_id(rec["orderId"])
    order_time = epoch_to_utc(rec["createdTime"], unit="ms")
    user_id = exact_id(rec["userId"])
    skus = rec.get("skuList") or []
    if isinstance(skus, str):
        # records_batch turns a nested column into JSON text when one record's
        # shape differs from the others; read it back exactly.
        skus = json_loads_exact(skus)
    items = [
        {"order_id": order_id, "platform": PLATFORM, "line_id": f"{order_id}-{n}", "product_id": exact_id(sku["skuId"]),
         "quantity": _count(sku["skuQuantity"]), "amount": fen_to_yuan(sku["totalPaidAmount"])}
        for n, sku in enumerate(skus, start=1)
    ]
    out: Rows = {
        "orders": [{"order_id": order_id, "platform": PLATFORM, "id_type": ID_TYPE, "id_value": user_id,
                    "order_time": order_time, "amount": fen_to_yuan(rec["totalPayAmount"]), "currency": "CNY",
                    "status": _code(status_code, codes.ARK_STATUS, "orderStatus")}],
        "order_items": items,
        "identity_links": [],
    }
    hashed = phone_sha256(rec.get("receiverPhone"))
    if hashed is not None:
        out["identity_links"].append({"platform": PLATFORM, "left_type": ID_TYPE, "left_value": user_id,
                                      "right_type": "phone_sha256", "right_value": hashed, "observed_at": order_time})
    return out


MAPPERS = {"ad_reports": map_report_row, "creatives": map_creative, "kol_notes": map_note,
           "touchpoints": map_event, "shop_orders": map_order}
TABLES: dict[str, tuple[str, ...]] = {
    "ad_reports": ("spend",), "creatives": ("materials",), "kol_notes": ("materials", "spend"),
    "touchpoints": ("touchpoints",), "shop_orders": ("orders", "order_items", "identity_links"),
}


def normalise(stream: str, batch: pa.RecordBatch | pa.Table) -> dict[str, pa.Table]:
    """Normalise one raw batch of ``stream``; unmappable records go to rejects with the reason."""
    return map_records(batch, MAPPERS[stream], platform=PLATFORM, stream=stream, tables=TABLES[stream])

