"""The synthetic brand world: one seeded truth, rendered by every platform simulator.

``build_world(WorldConfig(seed=7))`` draws consumers present on several
platforms, the brand's products, campaigns, KOLs and creatives, and runs a
behaviour model that produces touches, orders, refunds, memberships and
spend. The result is held in **canonical form** (the tables of
:mod:`omniplug.schema`, every platform together) plus the truth behind it:

* ``truth_identities`` - (person_id, id_type, id_value): who every identifier is;
* ``truth_materials`` - (platform, material_id, creative_id, variant): which
  original creative each platform's material was edited from;
* ``truth_order_touches`` - (platform, order_id, event_platform, event_id):
  the touch the behaviour model made lead to each order.

Each platform simulator renders :meth:`World.slice` of its platform in the
platform's own shapes (the inverse of that plugin's normalise), so fetch +
normalise against a simulator must give back exactly that slice: the
ground-truth test of every plugin, and the truth the demo compares with.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.schema import TABLES
from omniplug.world.activity import simulate_activity
from omniplug.world.catalog import Catalog, created_at, draw_catalog
from omniplug.world.config import COMMERCE_PLATFORMS, PLATFORMS, WorldConfig
from omniplug.world.people import TEST_PHONE, Person, draw_people

__all__ = ["World", "WorldConfig", "build_world", "PLATFORMS", "COMMERCE_PLATFORMS", "TEST_PHONE"]

_TRUTH_SCHEMAS = {
    "truth_identities": pa.schema([("person_id", pa.int64()), ("id_type", pa.string()), ("id_value", pa.string())]),
    "truth_materials": pa.schema([("platform", pa.string()), ("material_id", pa.string()),
                                  ("creative_id", pa.int64()), ("variant", pa.int32())]),
    "truth_order_touches": pa.schema([("platform", pa.string()), ("order_id", pa.string()),
                                      ("event_platform", pa.string()), ("event_id", pa.string())]),
}


@dataclass
class World:
    """A generated world: canonical tables of every platform, and the truth behind them.

    Attributes:
        config: how it was generated.
        people: the consumers (with raw phones: simulators serve them where
            the platform would; nothing else may keep them).
        catalog: products, campaigns, KOLs and materials.
        tables: canonical tables (``orders``, ``touchpoints``, ...) of all platforms.
        truth: ``truth_identities``, ``truth_materials``, ``truth_order_touches``.
        order_phones: the raw receiver phone of each shop order that carries one
            (``{(platform, order_id): phone}``), for simulators.
    """

    config: WorldConfig
    people: list[Person]
    catalog: Catalog
    tables: dict[str, pa.Table]
    truth: dict[str, pa.Table]
    order_phones: dict[tuple[str, str], str] = field(default_factory=dict)

    def slice(self, platform: str) -> dict[str, pa.Table]:
        """The canonical tables of one platform (rows whose ``platform`` is ``platform``)."""
        return {
            name: table.filter(pc.equal(table.column("platform"), platform))
            for name, table in self.tables.items()
        }

    def phone_of_hash(self) -> dict[str, str]:
        """``phone_sha256 -> raw phone`` for every consumer (and the shop's test phone)."""
        from omniplug.fields import phone_sha256

        found = {p.phone_sha256: p.phone for p in self.people}
        found[phone_sha256(TEST_PHONE) or ""] = TEST_PHONE
        return found


def build_world(config: WorldConfig | None = None) -> World:
    """Generate the world of ``config`` (default: the demo world). Deterministic."""
    config = config or WorldConfig()
    rng = random.Random(config.seed)
    people = draw_people(config, rng)
    catalog = draw_catalog(config, rng)
    activity = simulate_activity(config, people, catalog, rng)
    rows = activity.rows
    tables = {
        "identity_links": activity.identity_links(),
        "touchpoints": rows["touchpoints"],
        "orders": rows["orders"],
        "order_items": rows["order_items"],
        "spend": rows["spend"],
        "products": [{"product_id": p.product_id, "platform": p.platform, "sku": p.sku, "title": p.title,
                      "brand": "Lumière", "category": p.category, "price": p.price} for p in catalog.products],
        "materials": [{"material_id": m.material_id, "platform": m.platform, "media_type": m.media_type, "uri": None,
                       "title": m.title, "campaign_id": m.campaign_id, "kol_id": m.kol_id,
                       "created_at": created_at(config, m)} for m in catalog.materials],
    }
    truth = {
        "truth_identities": [{"person_id": p.person_id, "id_type": t, "id_value": v}
                             for p in people for ids in p.ids.values() for t, v in ids.items()]
                            + [{"person_id": p.person_id, "id_type": "phone_sha256", "id_value": p.phone_sha256}
                               for p in people],
        "truth_materials": [{"platform": m.platform, "material_id": m.material_id, "creative_id": m.creative_id,
                             "variant": m.variant} for m in catalog.materials],
        "truth_order_touches": activity.order_touches,
    }
    return World(
        config=config,
        people=people,
        catalog=catalog,
        tables={name: pa.Table.from_pylist(items, schema=TABLES[name]) for name, items in tables.items()},
        truth={name: pa.Table.from_pylist(items, schema=_TRUTH_SCHEMAS[name]) for name, items in truth.items()},
        order_phones={(r["platform"], r["order_id"]): r["phone"] for r in rows["_order_phones"]},
    )
