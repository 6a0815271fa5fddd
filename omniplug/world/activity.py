"""What consumers do in the world: touches, orders, memberships, and what it costs.

The behaviour model: each consumer meets the brand a Poisson number of times
on each platform they use. Every touch may *lead to a purchase*, with a
probability given by its event type's pull and the consumer's propensity;
the order follows the touch by an exponential delay, on the touch's
platform when it sells, else on a commerce platform the consumer uses. The
touch that led to each order is recorded as the truth that attribution is
compared with. Times are whole seconds, because most platforms report
seconds in China time and the world must round-trip through them exactly.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from omniplug.fields import CHINA_TZ, phone_sha256
from omniplug.world.catalog import Catalog
from omniplug.world.config import COMMERCE_PLATFORMS, PLATFORM_EVENTS, WorldConfig
from omniplug.world.people import TEST_PHONE, Person

__all__ = ["Activity", "simulate_activity"]

_CENT = Decimal("0.01")
_VIEWS = {"impression", "video_view", "note_read"}


class Activity:
    """Canonical rows (as dicts) produced by the behaviour model, plus the truth."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.order_touches: list[dict[str, Any]] = []
        self._links: dict[tuple[str, str, str, str, str], datetime] = {}

    def link(self, platform: str, left: tuple[str, str], right: tuple[str, str], at: datetime) -> None:
        """Record that ``platform`` saw two identifiers together at ``at`` (latest sighting kept)."""
        key = (platform, *left, *right)
        if key not in self._links or self._links[key] < at:
            self._links[key] = at

    def identity_links(self) -> list[dict[str, Any]]:
        """One row per distinct link, observed_at = its latest sighting."""
        return [
            {"platform": p, "left_type": lt, "left_value": lv, "right_type": rt, "right_value": rv, "observed_at": at}
            for (p, lt, lv, rt, rv), at in sorted(self._links.items())
        ]


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _second(dt: datetime) -> datetime:
    return dt.replace(microsecond=0)


def _event_id(rng: random.Random, platform: str) -> str:
    if platform == "douyin":
        return str(rng.randrange(7_000_000_000_000_000_000, 7_300_000_000_000_000_000))
    return f"{platform[:2]}{rng.randrange(16**14):014x}"


def _order_id(rng: random.Random, platform: str) -> str:
    if platform == "tmall":
        return str(rng.randrange(3_000_000_000_000_000_000, 4_000_000_000_000_000_000))
    if platform == "jd":
        return str(rng.randrange(200_000_000_000, 399_999_999_999))
    if platform == "douyin":
        return str(rng.randrange(6_900_000_000_000_000_000, 6_999_999_999_999_999_999))
    return f"P{rng.randrange(10**18):018d}"


def _touch(rng: random.Random, config: WorldConfig, person: Person, platform: str, catalog: Catalog) -> dict[str, Any]:
    events = PLATFORM_EVENTS[platform]
    event_type, channel, _, pull = rng.choices(events, weights=[e[2] for e in events])[0]
    at = _second(config.start + timedelta(seconds=rng.randrange(config.days * 86400)))
    id_type, id_value = person.primary_id(platform)
    row: dict[str, Any] = {
        "event_id": _event_id(rng, platform), "platform": platform, "id_type": id_type, "id_value": id_value,
        "event_time": at, "event_type": event_type, "channel": channel,
        "campaign_id": None, "kol_id": None, "material_id": None, "product_id": None,
    }
    if channel in ("paid", "search"):
        campaigns = [c for c in catalog.campaigns if c.channel == channel]
        if campaigns:
            campaign = rng.choice(campaigns)
            row["campaign_id"] = campaign.campaign_id
            materials = [m for m in catalog.materials if m.campaign_id == campaign.campaign_id]
            if materials:
                row["material_id"] = rng.choice(materials).material_id
        else:
            row["channel"] = "organic"
    elif channel == "kol" and catalog.kols:
        kol = rng.choice(catalog.kols)
        row["kol_id"] = kol.kol_id
        materials = [m for m in catalog.materials if m.kol_id == kol.kol_id]
        if materials:
            row["material_id"] = rng.choice(materials).material_id
    if event_type in ("product_view", "add_to_cart", "favorite") and catalog.products:
        row["product_id"] = rng.choice(catalog.products).product_id
    row["_pull"] = pull
    return row


def _order(
    rng: random.Random, config: WorldConfig, person: Person, platform: str, at: datetime,
    catalog: Catalog, activity: Activity,
) -> dict[str, Any]:
    order_id = _order_id(rng, platform)
    total = Decimal(0)
    for line in range(rng.randint(1, 3)):
        product = rng.choice(catalog.products)
        qty = rng.randint(1, 2)
        amount = (product.price * qty * Decimal(rng.choice(["1", "0.9", "0.85"]))).quantize(_CENT, ROUND_HALF_UP)
        total += amount
        line_id = f"{order_id}-{line + 1}" if platform != "tmall" else str(int(order_id) + line + 1)
        activity.rows["order_items"].append({"order_id": order_id, "platform": platform, "line_id": line_id,
                                             "product_id": product.product_id, "quantity": qty, "amount": amount})
    status = rng.choices(["paid", "refunded", "cancelled"], weights=[88, 8, 4])[0]
    ids = person.ids[platform]
    id_type = {"tmall": "tmall_buyer_open_uid", "jd": "jd_pin", "douyin": "douyin_openid",
               "xiaohongshu": "xhs_user_id"}[platform]
    if platform == "tmall":
        activity.link("tmall", ("tmall_buyer_open_uid", ids["tmall_buyer_open_uid"]), ("tmall_ouid", ids["tmall_ouid"]), at)
    elif platform in ("douyin", "xiaohongshu"):
        # Shop orders carry the receiver phone; the Douyin shop's staff sometimes
        # place orders with the shop's test number (a planted hub).
        phone = TEST_PHONE if platform == "douyin" and rng.random() < config.hub_share else person.phone
        activity.link(platform, (id_type, ids[id_type]), ("phone_sha256", phone_sha256(phone) or ""), at)
        activity.rows["_order_phones"].append({"platform": platform, "order_id": order_id, "phone": phone})
    return {"order_id": order_id, "platform": platform, "id_type": id_type, "id_value": ids[id_type],
            "order_time": at, "amount": total, "currency": "CNY", "status": status}


def _memberships(rng: random.Random, config: WorldConfig, person: Person, activity: Activity) -> None:
    for platform in sorted(person.member):
        joined = _second(config.start + timedelta(seconds=rng.randrange(config.days * 86400)))
        ids = person.ids[platform]
        phone = ("phone_sha256", person.phone_sha256)
        if platform == "tmall":
            activity.link("tmall", ("tmall_ouid", ids["tmall_ouid"]), phone, joined)
            if rng.random() < 0.6:
                activity.link("tmall", ("tmall_ouid", ids["tmall_ouid"]), ("tmall_omid", ids["tmall_omid"]), joined)
        else:
            activity.link("jd", ("jd_pin", ids["jd_pin"]), phone, joined)
    if "douyin" in person.ids:
        ids = person.ids["douyin"]
        first_seen = _second(config.start + timedelta(seconds=rng.randrange(config.days * 86400)))
        activity.link("douyin", ("douyin_openid", ids["douyin_openid"]), ("douyin_unionid", ids["douyin_unionid"]),
                      first_seen)
        if rng.random() < 0.5:
            activity.link("douyin", ("oaid", ids["oaid"]), ("douyin_openid", ids["douyin_openid"]), first_seen)


def simulate_activity(config: WorldConfig, people: list[Person], catalog: Catalog, rng: random.Random) -> Activity:
    """Run the behaviour model over every consumer."""
    activity = Activity()
    per_platform = {p: catalog.on(p) for p in ("tmall", "jd", "douyin", "xiaohongshu", "weibo")}
    for person in people:
        _memberships(rng, config, person, activity)
        touches = []
        for platform in sorted(person.ids):
            for _ in range(_poisson(rng, config.touches_per_platform)):
                touches.append(_touch(rng, config, person, platform, per_platform[platform]))
        touches.sort(key=lambda t: (t["event_time"], t["event_id"]))
        orders = 0
        for touch in touches:
            pull = touch.pop("_pull")
            activity.rows["touchpoints"].append(touch)
            if orders >= 4 or rng.random() >= pull * person.propensity:
                continue
            at = _second(touch["event_time"] + timedelta(minutes=1 + rng.expovariate(1 / 2160)))
            shops = [p for p in COMMERCE_PLATFORMS if p in person.ids]
            if at >= config.end or not shops:
                continue
            platform = touch["platform"] if touch["platform"] in shops else rng.choice(shops)
            order = _order(rng, config, person, platform, at, per_platform[platform], activity)
            activity.rows["orders"].append(order)
            activity.order_touches.append({"platform": platform, "order_id": order["order_id"],
                                           "event_platform": touch["platform"], "event_id": touch["event_id"]})
            orders += 1
    _spend(config, catalog, activity)
    return activity


def _spend(config: WorldConfig, catalog: Catalog, activity: Activity) -> None:
    """Daily paid/search spend from impressions x CPM; KOL fees per post, on the window's first day."""
    cpm = {c.campaign_id: c.cpm for c in catalog.campaigns}
    daily: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    kol_counts: dict[tuple[str, str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for t in activity.rows["touchpoints"]:
        views, clicks = int(t["event_type"] in _VIEWS), int(t["event_type"] == "click")
        if t["channel"] in ("paid", "search") and t["campaign_id"]:
            day = t["event_time"].astimezone(CHINA_TZ).date()
            key = (day, t["platform"], t["channel"], t["campaign_id"], None, t["material_id"])
            daily[key][0] += views
            daily[key][1] += clicks
        elif t["channel"] == "kol" and t["kol_id"]:
            counts = kol_counts[(t["platform"], t["kol_id"], t["material_id"])]
            counts[0] += views
            counts[1] += clicks
    scale = config.population_scale
    for (day, platform, channel, campaign, kol, material), (views, clicks) in sorted(daily.items(), key=str):
        impressions = views * scale
        spend = (Decimal(impressions) * cpm[campaign] / 1000 + Decimal(clicks * scale) * Decimal("0.5")).quantize(_CENT)
        activity.rows["spend"].append({"date": day, "platform": platform, "channel": channel, "campaign_id": campaign,
                                       "kol_id": kol, "material_id": material, "spend": spend,
                                       "impressions": impressions, "clicks": clicks * scale})
    first_day = config.start.astimezone(CHINA_TZ).date()
    for kol in catalog.kols:
        materials = [m for m in catalog.materials if m.kol_id == kol.kol_id]
        share = (kol.fee / max(1, len(materials))).quantize(_CENT)
        for m in materials:
            views, clicks = kol_counts.get((kol.platform, kol.kol_id, m.material_id), [0, 0])
            activity.rows["spend"].append({"date": first_day, "platform": kol.platform, "channel": "kol",
                                           "campaign_id": None, "kol_id": kol.kol_id, "material_id": m.material_id,
                                           "spend": share, "impressions": views * scale, "clicks": clicks * scale})
