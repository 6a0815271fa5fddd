"""What the brand sells and advertises: products, campaigns, KOLs and creatives.

One brand ("Lumière", beauty) sells the same SKUs on every commerce platform
under each platform's own product ids, runs campaigns on every platform, and
pays KOLs on Douyin (Xingtu), Xiaohongshu (Pugongying) and Weibo. A dozen
original creatives are re-edited for each platform: the material ids differ,
the creative behind them is the same, and the truth table records which.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from omniplug.world.config import COMMERCE_PLATFORMS, PLATFORMS, WorldConfig

__all__ = ["Product", "Campaign", "Kol", "Material", "Catalog", "draw_catalog", "BRAND"]

BRAND = "Lumière"
_SKUS = (
    ("Velvet Matte Lipstick 03", "lipstick", "189.00"), ("Hydra Serum 30ml", "serum", "459.00"),
    ("Night Repair Cream 50ml", "cream", "699.00"), ("Silk Foundation 30ml", "foundation", "399.00"),
    ("Dew Cushion Refill", "cushion", "259.00"), ("Rose Toner 150ml", "toner", "229.00"),
    ("Eye Palette Dusk", "eyeshadow", "329.00"), ("Brow Pencil Ash", "brow", "129.00"),
    ("Sun Veil SPF50", "sunscreen", "279.00"), ("Gloss Lip Oil", "lipstick", "169.00"),
    ("Clay Mask 75g", "mask", "199.00"), ("Travel Set", "gift set", "899.00"),
)


@dataclass(frozen=True)
class Product:
    """A SKU as one platform lists it (the platform's own product id)."""

    platform: str
    product_id: str
    sku: str
    title: str
    category: str
    price: Decimal


@dataclass(frozen=True)
class Campaign:
    """A paid campaign on one platform."""

    platform: str
    campaign_id: str
    name: str
    channel: str  # "paid" or "search"
    cpm: Decimal  # yuan per thousand impressions


@dataclass(frozen=True)
class Kol:
    """A KOL the brand pays on one platform."""

    platform: str
    kol_id: str
    name: str
    fee: Decimal  # yuan per post


@dataclass(frozen=True)
class Material:
    """One platform's copy of a creative.

    ``creative_id`` and ``variant`` are the truth: which original it was
    edited from and which of the platform's edit pipelines made it.
    """

    platform: str
    material_id: str
    media_type: str
    title: str
    campaign_id: str | None
    kol_id: str | None
    creative_id: int
    variant: int
    created_at_offset_hours: int


@dataclass
class Catalog:
    """Everything the brand offers and runs, on every platform."""

    products: list[Product] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    kols: list[Kol] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)

    def on(self, platform: str) -> Catalog:
        """Only what runs on ``platform``."""
        return Catalog(
            [p for p in self.products if p.platform == platform],
            [c for c in self.campaigns if c.platform == platform],
            [k for k in self.kols if k.platform == platform],
            [m for m in self.materials if m.platform == platform],
        )


def _product_id(rng: random.Random, platform: str) -> str:
    if platform == "tmall":
        return str(rng.randrange(600_000_000_000, 799_999_999_999))
    if platform == "jd":
        # Some JD sku ids are above 2**53: a client that parses JSON numbers as floats loses digits.
        return str(rng.randrange(10_000_000_000_000_000, 10_099_999_999_999_999))
    if platform == "douyin":
        return str(rng.randrange(3_500_000_000_000_000_000, 3_700_000_000_000_000_000))
    return "".join(rng.choice("0123456789abcdef") for _ in range(24))


def _ad_id(rng: random.Random, platform: str) -> str:
    if platform == "douyin":  # Ocean Engine ids are int64 above 2**53
        return str(rng.randrange(1_700_000_000_000_000_000, 1_800_000_000_000_000_000))
    if platform == "weibo":
        return str(rng.randrange(4_000_000_000_000_000, 5_000_000_000_000_000))
    return str(rng.randrange(10_000_000, 99_999_999))


_CAMPAIGNS = {"tmall": ("万相台·新品", "万相台·拉新", "直通车·品牌词"), "jd": ("京准通·快车", "京准通·购物触点", "京东搜索"),
              "douyin": ("巨量·种草", "巨量·转化", "巨量·直播引流", "千川·搜索"),
              "xiaohongshu": ("聚光·信息流", "聚光·搜索", "聚光·种草"), "weibo": ("粉丝通·曝光", "粉丝通·互动")}
_KOLS = {"douyin": 5, "xiaohongshu": 5, "weibo": 2}


def draw_catalog(config: WorldConfig, rng: random.Random) -> Catalog:
    """Products, campaigns, KOLs and per-platform materials of the world."""
    catalog = Catalog()
    for platform in COMMERCE_PLATFORMS:
        for i, (title, category, price) in enumerate(_SKUS, start=1):
            catalog.products.append(Product(platform, _product_id(rng, platform), f"LUM-{i:03d}",
                                             f"{BRAND} {title}", category, Decimal(price)))
    creative_ids = list(range(1, config.creatives + 1))
    for platform in PLATFORMS:
        for name in _CAMPAIGNS[platform]:
            channel = "search" if ("搜索" in name or "品牌词" in name) else "paid"
            cpm = Decimal(rng.choice(["18.00", "25.00", "32.00", "40.00"]))
            catalog.campaigns.append(Campaign(platform, _ad_id(rng, platform), name, channel, cpm))
        for k in range(_KOLS.get(platform, 0)):
            fee = Decimal(rng.choice(["8000.00", "15000.00", "30000.00", "60000.00"]))
            catalog.kols.append(Kol(platform, _ad_id(rng, platform), f"{platform}-kol-{k + 1}", fee))
        # Each paid campaign and each KOL runs a few of the brand's creatives.
        runners: list[tuple[str | None, str | None]] = [
            (c.campaign_id, None) for c in catalog.campaigns if c.platform == platform and c.channel == "paid"
        ] + [(None, k.kol_id) for k in catalog.kols if k.platform == platform]
        for campaign_id, kol_id in runners:
            for creative_id in rng.sample(creative_ids, k=min(len(creative_ids), rng.randint(1, 3))):
                video = platform == "douyin" and (kol_id is not None or rng.random() < 0.3)
                catalog.materials.append(Material(
                    platform=platform,
                    material_id=_ad_id(rng, platform) if platform in ("douyin", "weibo") else f"m{rng.randrange(10**9):09d}",
                    media_type="video" if video else "image",
                    title=f"{BRAND} creative {creative_id}",
                    campaign_id=campaign_id,
                    kol_id=kol_id,
                    creative_id=creative_id,
                    variant=rng.randrange(3),
                    created_at_offset_hours=-rng.randrange(24, 24 * 20),
                ))
    return catalog


def created_at(config: WorldConfig, material: Material):  # type: ignore[no-untyped-def]
    """When the material was uploaded (before the window opens)."""
    return config.start + timedelta(hours=material.created_at_offset_hours)
