"""The knobs of the synthetic brand world and the platform vocabularies it draws from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from omniplug.fields import CHINA_TZ

__all__ = ["WorldConfig", "PLATFORMS", "COMMERCE_PLATFORMS", "PLATFORM_EVENTS", "PRESENCE"]

#: The five platforms of the world, in a fixed order (it drives the seeded draws).
PLATFORMS: tuple[str, ...] = ("tmall", "jd", "douyin", "xiaohongshu", "weibo")
#: Platforms where the brand sells (they have orders).
COMMERCE_PLATFORMS: tuple[str, ...] = ("tmall", "jd", "douyin", "xiaohongshu")
#: Probability that a consumer is present on each platform.
PRESENCE: dict[str, float] = {"tmall": 0.6, "jd": 0.4, "douyin": 0.7, "xiaohongshu": 0.5, "weibo": 0.3}

#: (event_type, channel, weight of the draw, purchase pull) per platform. The
#: pull is how strongly the behaviour model lets that touch lead to a purchase.
PLATFORM_EVENTS: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "tmall": (("impression", "paid", 5, 0.01), ("click", "paid", 2, 0.08), ("search", "search", 2, 0.06),
              ("product_view", "organic", 2, 0.05), ("add_to_cart", "organic", 1, 0.25),
              ("favorite", "organic", 0.5, 0.12)),
    "jd": (("impression", "paid", 5, 0.01), ("click", "paid", 2, 0.08), ("search", "search", 2, 0.06),
           ("product_view", "organic", 2, 0.05), ("add_to_cart", "organic", 1, 0.25)),
    "douyin": (("impression", "paid", 6, 0.005), ("video_view", "kol", 3, 0.03), ("click", "paid", 1.5, 0.07),
               ("like", "kol", 1, 0.02), ("follow", "organic", 0.3, 0.04), ("live_view", "live", 1, 0.06),
               ("share", "kol", 0.3, 0.03)),
    "xiaohongshu": (("impression", "paid", 4, 0.005), ("note_read", "kol", 3, 0.04), ("like", "kol", 1, 0.02),
                    ("favorite", "kol", 0.8, 0.05), ("comment", "kol", 0.3, 0.03), ("search", "search", 1, 0.05)),
    "weibo": (("impression", "paid", 4, 0.003), ("comment", "organic", 0.6, 0.01), ("share", "organic", 0.4, 0.01),
              ("like", "organic", 1, 0.005)),
}


@dataclass(frozen=True)
class WorldConfig:
    """Size and shape of the synthetic world.

    Attributes:
        seed: everything is drawn from this seed; the same config gives the same world.
        persons: number of consumers.
        days: length of the observed window.
        start: start of the window (China time midnight by default).
        creatives: number of original creatives (each re-edited per platform).
        touches_per_platform: mean touches of a present consumer on one platform.
        hub_share: share of Douyin shop orders placed with the shop's test phone
            (a planted hub: stitching must not merge those buyers).
        population_scale: how many real impressions one simulated impression
            stands for (spend and impression figures are scaled by it).
    """

    seed: int = 7
    persons: int = 2_000
    days: int = 30
    start: datetime = field(default_factory=lambda: datetime(2026, 10, 1, tzinfo=CHINA_TZ))
    creatives: int = 12
    touches_per_platform: float = 6.0
    hub_share: float = 0.05
    population_scale: int = 100

    @property
    def end(self) -> datetime:
        """End of the window (exclusive)."""
        return self.start + timedelta(days=self.days)

    def scaled(self, factor: float) -> WorldConfig:
        """The same world with ``factor`` times the consumers (for ``--scale``)."""
        from dataclasses import replace

        return replace(self, persons=max(1, int(self.persons * factor)))
