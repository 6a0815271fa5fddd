"""The fetch functions of the Tmall streams, one per stream name."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa

from omniplug_tmall.streams.common import Env
from omniplug_tmall.streams.listings import fetch_materials, fetch_products
from omniplug_tmall.streams.orders import fetch_orders
from omniplug_tmall.streams.windowed import (
    fetch_ad_reports,
    fetch_members,
    fetch_touchpoints,
)

__all__ = ["FETCHERS", "Env"]

#: stream name -> fetch function.
FETCHERS: dict[str, Callable[[Env], Iterator[pa.RecordBatch]]] = {
    "orders": fetch_orders,
    "members": fetch_members,
    "ad_reports": fetch_ad_reports,
    "touchpoints": fetch_touchpoints,
    "products": fetch_products,
    "materials": fetch_materials,
}
