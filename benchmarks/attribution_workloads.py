"""Seeded workloads for the attribution benchmarks: touchpoints, orders, spend.

A workload is three Parquet files in canonical shape (DESIGN §4) with the
person already resolved (a ``person_id`` column on touchpoints and orders,
as after :func:`omniplug.stitch`), so every engine joins on the same key:

* ``touchpoints``: ``event_id`` (``e`` + 10 digits), ``person_id``,
  ``platform`` (5), ``event_time`` (ms, UTC, over 180 days), ``event_type``
  (14), ``channel`` (6), ``campaign_id``, ``kol_id``, ``material_id`` (null
  where the channel has none: organic and CRM touches have no campaign,
  only KOL and live touches have a KOL), sorted by event time as platform
  exports come;
* ``orders``: ``order_id``, ``person_id``, ``order_time``, ``amount``
  (``decimal128(18, 2)`` yuan), ``currency``, ``status`` (90 % paid, 6 %
  refunded, 4 % cancelled);
* ``spend``: daily ``spend`` / ``impressions`` / ``clicks`` per (platform,
  channel, campaign_id, kol_id, material_id), on ~30 % of the days of every
  paid key, plus keys no touch ever reached (they must come out with zero
  credit).

Behaviour: a person has an activity centre and spread in time (touches
cluster, as campaigns and seasons make them); persons' activity is
log-normal (a few heavy users hold many touches and orders); orders follow
their person's touches by a few days. Touches per person average 10 and
orders are one per 20 touches, the issue's 20 M touchpoints / 1 M orders.

Files are generated once (numpy, seeded) and cached under
``benchmarks/.data/`` keyed by size, seed and generator version::

    python attribution_workloads.py 2m          # from benchmarks/: generate (or find) 2 M touchpoints
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["SIZES", "AttributionWorkload", "attribution_workload", "DATA_DIR", "GENERATOR_VERSION",
           "PLATFORMS", "CHANNELS", "EVENT_TYPES", "GROUP_BY"]

#: Bump when the generated data changes, so stale cached files are not reused.
GENERATOR_VERSION = 1
DATA_DIR = Path(__file__).resolve().parent / ".data"
#: Workload names and their number of touchpoints (orders are one per 20).
SIZES: dict[str, int] = {"200k": 200_000, "2m": 2_000_000, "20m": 20_000_000}
PLATFORMS = ("tmall", "jd", "douyin", "xiaohongshu", "weibo")
CHANNELS = ("paid", "kol", "organic", "live", "search", "crm")
EVENT_TYPES = ("impression", "click", "video_view", "like", "comment", "share", "favorite", "follow", "search",
               "product_view", "add_to_cart", "store_visit", "live_view", "note_read")
#: The issue's aggregation key.
GROUP_BY = ("platform", "channel", "campaign_id", "kol_id", "material_id")

_PLATFORM_P = np.array([0.3, 0.2, 0.25, 0.15, 0.1])
_CHANNEL_P = np.array([0.35, 0.2, 0.15, 0.1, 0.12, 0.08])
_TYPE_P = np.array([0.3, 0.15, 0.12, 0.06, 0.03, 0.02, 0.03, 0.02, 0.06, 0.1, 0.04, 0.02, 0.03, 0.02])
_CAMPAIGNS, _MATERIALS_PER_CAMPAIGN, _KOLS, _MATERIALS_PER_KOL = 40, 10, 200, 3
_DAYS = 180
_DAY_MS = 86_400_000
_T0_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
_TOUCHES_PER_PERSON = 10
_TOUCHES_PER_ORDER = 20
_ROW_GROUP = 1_000_000
_TS = pa.timestamp("ms", tz="UTC")
_MONEY = pa.decimal128(18, 2)


@dataclass(frozen=True)
class AttributionWorkload:
    """A generated workload on disk.

    Attributes:
        name: a key of :data:`SIZES`.
        touchpoints: rows of ``touchpoints``.
        orders: rows of ``orders``.
        persons: distinct persons the generator drew from.
        folder: where ``touchpoints.parquet``, ``orders.parquet`` and ``spend.parquet`` are.
        seed: the generator seed.
    """

    name: str
    touchpoints: int
    orders: int
    persons: int
    folder: Path
    seed: int

    def path(self, table: str) -> Path:
        """The Parquet file of ``table`` (``touchpoints``, ``orders``, ``spend``)."""
        return self.folder / f"{table}.parquet"


def attribution_workload(name: str, *, seed: int = 20251122, data_dir: Path | None = None) -> AttributionWorkload:
    """The workload ``name`` (a key of :data:`SIZES`), generated on first use.

    Same name and seed, byte-identical files.
    """
    if name not in SIZES:
        raise ValueError(f"unknown attribution workload {name!r}; sizes are {sorted(SIZES)}")
    folder = (data_dir or DATA_DIR) / f"attribution-{name}-s{seed}-g{GENERATOR_VERSION}"
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _generate(SIZES[name], seed, folder)
    meta = json.loads(meta_path.read_text())
    return AttributionWorkload(name, meta["touchpoints"], meta["orders"], meta["persons"], folder, seed)


def _strings(prefix: str, codes: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``codes`` as a string array; negative codes are null."""
    digits = pc.utf8_lpad(pa.array(np.maximum(codes, 0)).cast(pa.string()), width, "0")
    text = pc.binary_join_element_wise(prefix, digits, "")
    return pc.if_else(pa.array(codes < 0), pa.scalar(None, pa.string()), text)


def _keys(platform: np.ndarray, channel: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Campaign, KOL and material codes per touch (``-1`` = none), consistent
    per KOL so that the (platform, channel, campaign, KOL, material) keys
    stay few (~6 k), as a brand's real ones do."""
    n = len(platform)
    campaign = np.full(n, -1, np.int64)
    kol = np.full(n, -1, np.int64)
    material = np.full(n, -1, np.int64)
    paid, kolc, live, search = (channel == CHANNELS.index(c) for c in ("paid", "kol", "live", "search"))
    base = platform.astype(np.int64) * 1000
    draw = rng.integers(0, _CAMPAIGNS, n)
    campaign[paid | search] = (base + draw)[paid | search]
    material[paid] = ((base + draw) * 100 + rng.integers(0, _MATERIALS_PER_CAMPAIGN, n))[paid]
    k = rng.integers(0, _KOLS, n)
    with_kol = kolc | live
    kol[with_kol] = (base + k)[with_kol]
    # A KOL works for one campaign and posts a few materials of it.
    campaign[with_kol] = (base + k % _CAMPAIGNS)[with_kol]
    material[kolc] = ((base + k) * 100 + 50 + rng.integers(0, _MATERIALS_PER_KOL, n))[kolc]
    return campaign, kol, material


def _key_columns(platform: np.ndarray, channel: np.ndarray, campaign: np.ndarray, kol: np.ndarray,
                 material: np.ndarray) -> dict[str, pa.Array]:
    names = np.array(PLATFORMS, dtype=object)
    return {
        "platform": pa.array(names[platform], pa.string()),
        "channel": pa.array(np.array(CHANNELS, dtype=object)[channel], pa.string()),
        "campaign_id": _strings("cmp-", campaign, 5),
        "kol_id": _strings("kol-", kol, 5),
        "material_id": _strings("m-", material, 7),
    }


def _generate(n: int, seed: int, folder: Path) -> None:
    started = time.perf_counter()
    rng = np.random.default_rng([seed, n])
    persons = max(1, n // _TOUCHES_PER_PERSON)
    n_orders = max(1, n // _TOUCHES_PER_ORDER)
    weight = rng.lognormal(0.0, 1.0, persons)
    weight /= weight.sum()
    centre = rng.uniform(0, _DAYS * _DAY_MS, persons)
    spread = 10 * _DAY_MS * rng.lognormal(0.0, 0.5, persons)

    who = rng.choice(persons, size=n, p=weight)
    t = centre[who] + spread[who] * rng.standard_normal(n)
    event_time = _T0_MS + _fold(t)
    platform = rng.choice(len(PLATFORMS), size=n, p=_PLATFORM_P).astype(np.int8)
    channel = rng.choice(len(CHANNELS), size=n, p=_CHANNEL_P).astype(np.int8)
    etype = rng.choice(len(EVENT_TYPES), size=n, p=_TYPE_P).astype(np.int8)
    campaign, kol, material = _keys(platform, channel, rng)
    order = np.argsort(event_time, kind="stable")
    touches = pa.table({
        "event_id": _strings("e", np.arange(n, dtype=np.int64), 10),
        "person_id": pa.array(who.astype(np.int64)),
        "event_time": pa.array(event_time, pa.int64()).cast(_TS),
        "event_type": pa.array(np.array(EVENT_TYPES, dtype=object)[etype], pa.string()),
        **_key_columns(platform, channel, campaign, kol, material),
    }).take(pa.array(order))
    touches = touches.select(["event_id", "person_id", "platform", "event_time", "event_type", *GROUP_BY[1:]])
    pq.write_table(touches, folder / "touchpoints.parquet.tmp", row_group_size=_ROW_GROUP)
    del touches

    buyer = rng.choice(persons, size=n_orders, p=weight)
    ot = centre[buyer] + 3 * _DAY_MS + spread[buyer] * rng.standard_normal(n_orders)
    order_time = _T0_MS + _fold(ot)
    cents = np.round(rng.lognormal(np.log(200.0), 0.8, n_orders) * 100).astype(np.int64) + 100
    status = rng.choice(3, size=n_orders, p=[0.9, 0.06, 0.04])
    sort = np.argsort(order_time, kind="stable")
    orders = pa.table({
        "order_id": _strings("o", np.arange(n_orders, dtype=np.int64), 9),
        "person_id": pa.array(buyer.astype(np.int64)),
        "order_time": pa.array(order_time, pa.int64()).cast(_TS),
        "amount": _cents_to_yuan(cents),
        "currency": pa.array(np.full(n_orders, "CNY", dtype=object), pa.string()),
        "status": pa.array(np.array(["paid", "refunded", "cancelled"], dtype=object)[status], pa.string()),
    }).take(pa.array(sort))
    pq.write_table(orders, folder / "orders.parquet.tmp", row_group_size=_ROW_GROUP)
    pq.write_table(_spend(platform, channel, campaign, kol, material, rng), folder / "spend.parquet.tmp")

    for table in ("touchpoints", "orders", "spend"):
        (folder / f"{table}.parquet.tmp").replace(folder / f"{table}.parquet")
    meta = {"touchpoints": n, "orders": n_orders, "persons": persons, "seed": seed,
            "generator_version": GENERATOR_VERSION, "seconds": round(time.perf_counter() - started, 1)}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


def _fold(ms: np.ndarray) -> np.ndarray:
    """Times reflected into the 180 days (clipping would pile touches up on the edges)."""
    span = _DAYS * _DAY_MS
    folded = np.abs(ms) % (2 * span)
    return np.where(folded >= span, 2 * span - 1 - folded, folded).astype(np.int64)


def _cents_to_yuan(cents: np.ndarray) -> pa.Array:
    """``decimal128(18, 2)`` yuan from integer cents, exactly (the unscaled value is the cents)."""
    return pa.Array.from_buffers(_MONEY, len(cents), [None, pa.py_buffer(
        np.stack([cents, np.where(cents < 0, -1, 0)], axis=1).astype(np.int64).tobytes())])


def _spend(platform: np.ndarray, channel: np.ndarray, campaign: np.ndarray, kol: np.ndarray, material: np.ndarray,
           rng: np.random.Generator) -> pa.Table:
    """Daily spend for the paid keys the touches use, plus keys no touch reached."""
    paid_channels = np.isin(channel, [CHANNELS.index(c) for c in ("paid", "kol", "live", "search")])
    keys = np.unique(np.stack([platform[paid_channels].astype(np.int64), channel[paid_channels].astype(np.int64),
                               campaign[paid_channels], kol[paid_channels], material[paid_channels]], axis=1),
                     axis=0)
    # Campaigns that bought media nobody touched (codes 900+ never occur in touches).
    extra_n = 100
    extra = np.stack([rng.integers(0, len(PLATFORMS), extra_n), np.full(extra_n, CHANNELS.index("paid")),
                      np.arange(extra_n) % len(PLATFORMS) * 1000 + 900 + np.arange(extra_n) // len(PLATFORMS),
                      np.full(extra_n, -1), np.arange(extra_n) + 99_000_000], axis=1)
    keys = np.concatenate([keys, extra])
    days = rng.random((len(keys), _DAYS)) < 0.3
    key_row, day = np.nonzero(days)
    k = keys[key_row]
    cost = np.round(rng.lognormal(np.log(800.0), 1.0, len(k)) * 100).astype(np.int64)
    impressions = (cost / 100 * rng.uniform(20, 60, len(k))).astype(np.int64)
    clicks = (impressions * rng.uniform(0.005, 0.04, len(k))).astype(np.int64)
    start = np.datetime64("2026-01-01", "D")
    return pa.table({
        "date": pa.array(start + day.astype("timedelta64[D]"), pa.date32()),
        **_key_columns(k[:, 0].astype(np.int8), k[:, 1].astype(np.int8), k[:, 2], k[:, 3], k[:, 4]),
        "spend": _cents_to_yuan(cost),
        "impressions": pa.array(impressions, pa.int64()),
        "clicks": pa.array(clicks, pa.int64()),
    })


if __name__ == "__main__":
    for size in sys.argv[1:] or ["2m"]:
        w = attribution_workload(size)
        print(json.dumps({"size": size, "touchpoints": w.touchpoints, "orders": w.orders, "persons": w.persons,
                          "folder": str(w.folder)}))
