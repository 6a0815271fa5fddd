"""The world's Weibo slice in Weibo's own shapes: the inverse of :mod:`omniplug_weibo.normalise`.

* materials -> posts on the brand's timeline: a 粉丝通 creative is a brand
  post with a picture (post id = material id); a KOL creative is the KOL's
  post (post id = material id, author uid = kol id), reposted by the brand;
  plain text posts, one every three days, carry the organic engagement;
* touchpoints -> comments and reposts of the latest text post before them
  (``comment``, ``share``) and interaction records of the ads host
  (``like``, paid ``impression`` as ``exposure``); their id is the world's
  event id read as hex (``we`` + 14 hex digits), so many exceed 2**53;
* spend -> 粉丝通 creative-day report rows and 微任务 KOL orders (yuan strings).

Times are China time: ``Tue May 31 17:46:55 +0800 2011`` on the open API,
``yyyy-MM-dd HH:mm:ss`` on the ads host.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow.compute as pc

from omniplug.fields import CHINA_TZ, china_time_to_utc
from omniplug.world import World

__all__ = ["BRAND_UID", "WeiboView", "china_wall", "render_view", "weibo_time"]

BRAND_UID = 5702138891
BRAND_NAME = "Lumière官方微博"
SOURCE = '<a href="https://weibo.com/" rel="nofollow">微博 weibo.com</a>'
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TEXT_POST_EVERY_DAYS = 3
_COMMENTS = ("好用！已回购", "求链接", "颜色好看", "蹲一个优惠", "已种草")

Record = dict[str, Any]


def weibo_time(dt: datetime) -> str:
    """``Tue May 31 17:46:55 +0800 2011``: Weibo's ``created_at``, China time, locale-independent."""
    cn = dt.astimezone(CHINA_TZ)
    return f"{_DAYS[cn.weekday()]} {_MONTHS[cn.month - 1]} {cn.day:02d} {cn:%H:%M:%S} +0800 {cn.year}"


def china_wall(dt: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in China time, as the ads host writes times."""
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def _user(uid: int, name: str) -> Record:
    return {"id": uid, "idstr": str(uid), "screen_name": name, "name": name, "verified": uid == BRAND_UID}


def _brief(post: Record) -> Record:
    """The short form of a post embedded in a comment or repost."""
    return {"id": post["id"], "idstr": post["idstr"], "mid": post["mid"], "text": post["text"],
            "created_at": post["created_at"], "user": {"id": post["user"]["id"], "idstr": post["user"]["idstr"]}}


def _post(post_id: int, when: datetime, text: str, user: Record, pic_id: str | None = None) -> Record:
    post: Record = {
        "created_at": weibo_time(when), "id": post_id, "idstr": str(post_id), "mid": str(post_id), "text": text,
        "source": SOURCE, "favorited": False, "truncated": False, "user": user,
        "reposts_count": 0, "comments_count": 0, "attitudes_count": 0, "pic_ids": [],
    }
    if pic_id is not None:
        post["pic_ids"] = [pic_id]
    return post


def pic_id_of(material_id: str) -> str:
    """A Weibo-looking picture id (32 characters) for a material."""
    return "0067" + hashlib.sha1(material_id.encode()).hexdigest()[:28]


@dataclass
class WeiboView:
    """The world's Weibo slice as the simulator serves it.

    Attributes:
        statuses: the brand's timeline, newest (largest id) first.
        comments: post id -> its comments, newest first.
        reposts: post id -> its reposts, newest first.
        interactions: the ads host's exposure and like records, newest first.
        creatives: the 粉丝通 creative list (which campaign promotes which post).
        creative_report: 粉丝通 creative-day rows.
        kol_orders: 微任务 KOL orders.
        pictures: picture id -> (creative_id, variant) behind it.
    """

    statuses: list[Record] = field(default_factory=list)
    comments: dict[int, list[Record]] = field(default_factory=lambda: defaultdict(list))
    reposts: dict[int, list[Record]] = field(default_factory=lambda: defaultdict(list))
    interactions: list[Record] = field(default_factory=list)
    creatives: list[Record] = field(default_factory=list)
    creative_report: list[Record] = field(default_factory=list)
    kol_orders: list[Record] = field(default_factory=list)
    pictures: dict[str, tuple[int, int]] = field(default_factory=dict)

    def status(self, post_id: int) -> Record | None:
        """The post with this id, if the brand's timeline has it."""
        return next((s for s in self.statuses if s["id"] == post_id), None)


def _newest_first(records: list[Record]) -> list[Record]:
    return sorted(records, key=lambda r: r["id"], reverse=True)


def render_view(world: World) -> WeiboView:
    """Render ``world.slice('weibo')`` as Weibo serves it (deterministic for the world's seed)."""
    rng = random.Random(f"weibo-view-{world.config.seed}")
    sl = world.slice("weibo")
    view = WeiboView()
    brand = _user(BRAND_UID, BRAND_NAME)
    truth = world.truth["truth_materials"]
    truth = truth.filter(pc.equal(truth.column("platform"), "weibo"))
    creative_of = {r["material_id"]: (r["creative_id"], r["variant"]) for r in truth.to_pylist()}
    kols = {k.kol_id: k for k in world.catalog.kols if k.platform == "weibo"}
    campaigns = {c.campaign_id: c for c in world.catalog.campaigns if c.platform == "weibo"}
    for m in sl["materials"].to_pylist():
        pic = pic_id_of(m["material_id"])
        view.pictures[pic] = creative_of[m["material_id"]]
        if m["kol_id"] is not None:
            kol = kols[m["kol_id"]]
            original = _post(int(m["material_id"]), m["created_at"], m["title"], _user(int(kol.kol_id), kol.name), pic)
            repost = _post(_big_id(rng), m["created_at"] + timedelta(hours=3), f"//@{kol.name}: 转发微博", brand)
            repost["retweeted_status"] = original
            view.statuses.append(repost)
        else:
            view.statuses.append(_post(int(m["material_id"]), m["created_at"], m["title"], brand, pic))
            campaign = campaigns[m["campaign_id"]]
            view.creatives.append({"creative_id": _big_id(rng), "campaign_id": int(campaign.campaign_id),
                                   "campaign_name": campaign.name, "mid": int(m["material_id"]),
                                   "create_time": china_wall(m["created_at"])})
    text_posts = _text_posts(world, rng, brand)
    view.statuses.extend(text_posts)
    _engagement(view, sl["touchpoints"].to_pylist(), text_posts)
    _spend(view, sl["spend"].to_pylist(), campaigns, kols, rng)
    view.statuses = _newest_first(view.statuses)
    view.interactions = _newest_first(view.interactions)
    for posts in (view.comments, view.reposts):
        for key in posts:
            posts[key] = _newest_first(posts[key])
    return view


def _big_id(rng: random.Random) -> int:
    """An int64 id above 2**53: a client parsing JSON numbers as doubles would lose digits."""
    return rng.randrange(2**53 + 1, 2**60)


def _text_posts(world: World, rng: random.Random, brand: Record) -> list[Record]:
    """Plain brand posts, one every three days from the day before the window: they draw the organic engagement."""
    start = world.config.start - timedelta(days=1) + timedelta(hours=10)
    return [_post(_big_id(rng), start + timedelta(days=TEXT_POST_EVERY_DAYS * k), f"Lumière 今日分享 #{k + 1}", brand)
            for k in range(world.config.days // TEXT_POST_EVERY_DAYS + 1)]


def _engagement(view: WeiboView, touches: list[Record], text_posts: list[Record]) -> None:
    posted = sorted(((china_time_to_utc(p["created_at"]), p) for p in text_posts), key=lambda x: x[0])
    stamps = [at for at, _ in posted]
    for t in touches:
        record_id = int(t["event_id"].removeprefix("we"), 16)
        uid = int(t["id_value"])
        kind = t["event_type"]
        if t["kol_id"] is not None or (kind in ("comment", "share") and t["campaign_id"] is not None):
            raise ValueError(f"the Weibo simulator cannot render a {t['channel']} {kind} touch ({t['event_id']})")
        # The engagement lands on the latest text post published before it.
        post = posted[max(0, bisect.bisect_right(stamps, t["event_time"]) - 1)][1]
        if kind in ("impression", "like"):
            mid = int(t["material_id"]) if t["material_id"] else (None if t["campaign_id"] else post["id"])
            view.interactions.append({
                "id": record_id, "idstr": str(record_id), "uid": uid,
                "action": "exposure" if kind == "impression" else "like",
                "time": china_wall(t["event_time"]), "mid": mid,
                "campaign_id": int(t["campaign_id"]) if t["campaign_id"] else None,
            })
            if kind == "like" and mid == post["id"]:
                post["attitudes_count"] += 1
            continue
        if kind not in ("comment", "share"):
            raise ValueError(f"the Weibo simulator cannot render a {kind!r} touch ({t['event_id']})")
        record: Record = {
            "created_at": weibo_time(t["event_time"]), "id": record_id, "idstr": str(record_id),
            "mid": str(record_id), "source": SOURCE, "user": _user(uid, f"用户{uid}"),
        }
        if kind == "comment":
            record.update(text=_COMMENTS[record_id % len(_COMMENTS)], rootid=record_id, status=_brief(post))
            view.comments[post["id"]].append(record)
            post["comments_count"] += 1
        else:
            record.update(text="转发微博", retweeted_status=_brief(post), reposts_count=0, comments_count=0)
            view.reposts[post["id"]].append(record)
            post["reposts_count"] += 1


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _spend(view: WeiboView, rows: list[Record], campaigns: dict[str, Any], kols: dict[str, Any],
           rng: random.Random) -> None:
    for row in rows:
        mid = int(row["material_id"]) if row["material_id"] else None
        if row["channel"] == "kol":
            kol = kols[row["kol_id"]]
            view.kol_orders.append({
                "order_id": _big_id(rng), "publish_date": row["date"].isoformat(), "kol_uid": int(kol.kol_id),
                "kol_name": kol.name, "mid": mid, "price": _money(row["spend"]),
                "read_count": row["impressions"], "interact_count": row["clicks"],
            })
        elif row["channel"] == "paid":
            campaign = campaigns[row["campaign_id"]]
            view.creative_report.append({
                "date": row["date"].isoformat(), "campaign_id": int(campaign.campaign_id),
                "campaign_name": campaign.name, "mid": mid, "cost": _money(row["spend"]),
                "impression": row["impressions"], "click": row["clicks"],
            })
        else:
            raise ValueError(f"the Weibo simulator cannot render {row['channel']!r} spend")
