"""Consumers of the synthetic world and their identifiers on each platform.

Every consumer has one mainland mobile number and, on each platform where
they are present, the identifiers that platform issues (Tmall's buyer open
uid, CRM ouid and membership omid; JD's pin; Douyin's open id, union id and
device OAID; Xiaohongshu's user id; Weibo's uid). The truth table maps every
identifier to its person, which is what stitching is measured against.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field

from omniplug.fields import phone_sha256
from omniplug.world.config import PLATFORMS, PRESENCE, WorldConfig

__all__ = ["Person", "draw_people", "TEST_PHONE"]

#: The Douyin shop's staff test number, used on a share of orders: a planted hub.
TEST_PHONE = "13800138000"

_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"


def _token(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


@dataclass
class Person:
    """One consumer: a phone and the identifiers each platform knows them by.

    Attributes:
        person_id: the true person (ground truth for stitching).
        phone: the raw 11-digit mobile number (simulators serve it where the
            platform would; normalise must hash it).
        ids: ``{platform: {id_type: id_value}}`` for the platforms they use.
        member: platforms where they joined the brand's membership.
        propensity: how readily the behaviour model turns their touches into orders.
    """

    person_id: int
    phone: str
    ids: dict[str, dict[str, str]] = field(default_factory=dict)
    member: set[str] = field(default_factory=set)
    propensity: float = 1.0

    @property
    def phone_sha256(self) -> str:
        """Lower-case hex SHA-256 of the phone: how platforms and CRMs share it."""
        digest = phone_sha256(self.phone)
        assert digest is not None  # drawn numbers are always valid mobiles
        return digest

    def primary_id(self, platform: str) -> tuple[str, str]:
        """The (id_type, id_value) a platform's touchpoints carry for this person."""
        kind = {"tmall": "tmall_ouid", "jd": "jd_pin", "douyin": "douyin_openid",
                "xiaohongshu": "xhs_user_id", "weibo": "weibo_uid"}[platform]
        return kind, self.ids[platform][kind]


def _platform_ids(rng: random.Random, platform: str) -> dict[str, str]:
    if platform == "tmall":
        return {"tmall_buyer_open_uid": "AAH" + _token(rng, _ALNUM, 21),
                "tmall_ouid": "ou" + _token(rng, _HEX, 30),
                "tmall_omid": "om" + _token(rng, _HEX, 30)}
    if platform == "jd":
        return {"jd_pin": "jd_" + _token(rng, _ALNUM, 13)}
    if platform == "douyin":
        return {"douyin_openid": "_000" + _token(rng, _ALNUM, 32),
                "douyin_unionid": _token(rng, _HEX, 8) + "-" + _token(rng, _HEX, 4) + "-" + _token(rng, _HEX, 12),
                "oaid": _token(rng, _HEX, 16)}
    if platform == "xiaohongshu":
        return {"xhs_user_id": _token(rng, _HEX, 24)}
    return {"weibo_uid": str(rng.randrange(1_000_000_000, 7_999_999_999))}


def draw_people(config: WorldConfig, rng: random.Random) -> list[Person]:
    """The consumers of the world, each present on at least one platform."""
    people: list[Person] = []
    phones: set[str] = {TEST_PHONE}
    for person_id in range(1, config.persons + 1):
        phone = TEST_PHONE
        while phone in phones:
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        phones.add(phone)
        person = Person(person_id, phone, propensity=rng.lognormvariate(0, 0.6))
        for platform in PLATFORMS:
            if rng.random() < PRESENCE[platform]:
                person.ids[platform] = _platform_ids(rng, platform)
                if platform in ("tmall", "jd") and rng.random() < 0.5:
                    person.member.add(platform)
        if not person.ids:
            platform = rng.choice(PLATFORMS)
            person.ids[platform] = _platform_ids(rng, platform)
        people.append(person)
    return people
