"""Example Mall records -> canonical tables.

Orders yield ``orders``, ``order_items`` and ``identity_links`` (the buyer's
open uid paired with the hash of the receiver phone: the raw phone never
leaves this module). Events yield ``touchpoints``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from omniplug.fields import china_time_to_utc, epoch_to_utc, exact_id, phone_sha256, yuan
from omniplug.rowmap import map_records

PLATFORM = "example"
ID_TYPE = "example_uid"
#: Example Mall trade status -> canonical order status.
STATUS = {
    "TRADE_FINISHED": "paid",
    "WAIT_SELLER_SEND_GOODS": "paid",
    "TRADE_CLOSED": "refunded",
    "TRADE_CLOSED_BY_TAOBAO": "cancelled",
}


def map_order(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One trade -> its order row, item rows and the uid <-> phone link."""
    order_id = exact_id(rec["tid"])
    order_time = china_time_to_utc(rec["created"])
    uid = rec["buyer_open_uid"]
    out: dict[str, list[dict[str, Any]]] = {
        "orders": [{
            "order_id": order_id, "platform": PLATFORM, "id_type": ID_TYPE, "id_value": uid,
            "order_time": order_time, "amount": yuan(rec["payment"]), "currency": "CNY",
            "status": STATUS.get(rec["status"], rec["status"]),
        }],
        "order_items": [
            {"order_id": order_id, "platform": PLATFORM, "line_id": exact_id(item["oid"]),
             "product_id": item["num_iid"], "quantity": int(item["num"]), "amount": yuan(item["payment"])}
            for item in (rec.get("orders") or {}).get("order", [])
        ],
        "identity_links": [],
    }
    hashed = phone_sha256(rec.get("receiver_mobile"))
    if hashed is not None:
        out["identity_links"].append({
            "platform": PLATFORM, "left_type": ID_TYPE, "left_value": uid,
            "right_type": "phone_sha256", "right_value": hashed, "observed_at": order_time,
        })
    return out


def map_event(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One event -> one touchpoint."""
    return {"touchpoints": [{
        "event_id": rec["event_id"], "platform": PLATFORM, "id_type": ID_TYPE, "id_value": rec["uid"],
        "event_time": epoch_to_utc(rec["ts"], unit="ms"), "event_type": rec["type"], "channel": "paid",
        "campaign_id": rec.get("campaign"),
    }]}


MAPPERS = {"orders": map_order, "events": map_event}
TABLES = {"orders": ("orders", "order_items", "identity_links"), "events": ("touchpoints",)}


def normalise(stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
    """Normalise one raw batch of ``stream``; unmappable records go to rejects."""
    return map_records(batch, MAPPERS[stream], platform=PLATFORM, stream=stream, tables=TABLES[stream])
