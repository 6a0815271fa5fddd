"""Raw Douyin records -> canonical tables, one mapper per stream.

The mappers live beside the API they read (:mod:`.ocean_streams`,
:mod:`.xingtu`, :mod:`.doudian`, :mod:`.open_platform`); this module routes
a stream's batch to its mapper through :func:`omniplug.rowmap.map_records`,
so one unmappable record becomes a ``rejects`` row while its page lands.
Conversions: China time and epoch seconds to UTC, fen and yuan to exact
decimals, ids above 2**53 to exact strings, receiver phones to SHA-256.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from omniplug.rowmap import RecordMapper, map_records
from omniplug_douyin import doudian, ocean_streams, open_platform, xingtu
from omniplug_douyin.common import PLATFORM

__all__ = ["MAPPERS", "TABLES", "normalise"]

#: Stream -> per-record mapper.
MAPPERS: dict[str, RecordMapper] = {
    "ad_reports": ocean_streams.map_report_row,
    "materials": ocean_streams.map_material,
    "xingtu_orders": xingtu.map_star_order,
    "shop_orders": doudian.map_shop_order,
    "touchpoints": ocean_streams.map_touch,
    "identities": open_platform.map_fan,
}
#: Stream -> the canonical tables it yields (the first is the one a record maps to one row of).
TABLES: dict[str, tuple[str, ...]] = {
    "ad_reports": ("spend",),
    "materials": ("materials",),
    "xingtu_orders": ("spend", "materials"),
    "shop_orders": ("orders", "order_items", "identity_links"),
    "touchpoints": ("touchpoints",),
    "identities": ("identity_links",),
}


def normalise(stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
    """Normalise one raw batch of ``stream``; unmappable records go to rejects."""
    return map_records(batch, MAPPERS[stream], platform=PLATFORM, stream=stream, tables=TABLES[stream])
