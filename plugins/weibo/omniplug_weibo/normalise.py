"""Weibo records -> canonical tables.

* ``statuses`` (the brand's timeline) -> ``materials``: a post with a
  picture is the brand's own creative (``material_id`` = the post id,
  ``campaign_id`` from the 粉丝通 creative list, added by fetch as
  ``fst_campaign_id``); a repost of a KOL's post with a picture is that
  KOL's creative (``material_id`` = the KOL post's id, ``kol_id`` = the
  KOL's uid). Posts without a picture are not materials.
* ``engagements`` -> ``touchpoints`` with ``id_type`` ``weibo_uid``: comments
  (``comment``), reposts (``share``), and the ads host's interaction records
  (``exposure`` -> ``impression``, ``like``).
* ``ad_reports`` -> ``spend``: 粉丝通 creative daily rows (channel ``paid``)
  and 微任务 KOL orders (channel ``kol``), yuan amounts.

Times: ``created_at`` in Weibo's ``Tue May 31 17:46:55 +0800 2011`` form
and the ads host's China wall-clock strings both become UTC. Ids are int64
(some above 2**53) and become exact strings. A touchpoint's ``event_id`` is
``"we"`` followed by the record id in (at least 14-digit) hex: comments,
reposts and interactions share Weibo's one id space, and the prefix keeps
them apart from other platforms' event ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.fields import china_time_to_utc, exact_id, yuan
from omniplug.rowmap import map_records

__all__ = ["MAPPERS", "TABLES", "event_id", "map_engagement", "map_report", "map_status", "normalise", "weibo_id"]

PLATFORM = "weibo"
ID_TYPE = "weibo_uid"
#: The ads host's interaction actions -> canonical event types.
ACTIONS = {"exposure": "impression", "like": "like"}

Rows = dict[str, list[dict[str, Any]]]


def weibo_id(value: Any) -> str:
    """A Weibo id (post, user, campaign...) as an exact string of digits.

    Weibo ids are int64 numbers; anything else (``'4.07108E+15'`` from a
    spreadsheet that turned an id into a float) has lost digits and is refused.
    """
    text = exact_id(value)
    if not text.isascii() or not text.isdigit():
        raise InvalidInputError(f"Weibo id {text!r} is not a whole number (an id saved as a spreadsheet number "
                                "loses digits: keep id columns as text)")
    return text


def _id(rec: Mapping[str, Any]) -> str:
    """A Weibo object's id, exact: ``idstr`` when sent, else the int64 ``id``."""
    text = rec.get("idstr")
    return weibo_id(text if text not in (None, "") else rec["id"])


def _opt_id(value: Any) -> str | None:
    return None if value in (None, "", 0) else weibo_id(value)


def event_id(record_id: Any) -> str:
    """The canonical ``event_id`` of a comment, repost or interaction: ``'we'`` + hex of its id."""
    return f"we{int(weibo_id(record_id)):014x}"


def _count(value: Any, what: str) -> int:
    """A count from JSON or an export: an int, a digit string or an integral float."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{what} {value!r} is not a count")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidInputError(f"{what} {value!r} is not a whole number")


def _material(post: Mapping[str, Any], *, campaign_id: str | None, kol_id: str | None) -> dict[str, Any]:
    return {
        "material_id": _id(post), "platform": PLATFORM, "media_type": "image",
        "uri": post["original_pic"], "title": post.get("text"), "campaign_id": campaign_id,
        "kol_id": kol_id, "created_at": china_time_to_utc(post["created_at"]),
    }


def map_status(rec: dict[str, Any]) -> Rows:
    """One post of the brand's timeline -> its material, if it carries one."""
    original = rec.get("retweeted_status")
    if original and original.get("original_pic"):
        # The brand reposted a KOL's post: the creative is the KOL's picture.
        kol = original.get("user") or {}
        return {"materials": [_material(original, campaign_id=None, kol_id=_id(kol))]}
    if rec.get("original_pic"):
        china_time_to_utc(rec["created_at"])  # a broken date rejects the post even without a creative
        return {"materials": [_material(rec, campaign_id=_opt_id(rec.get("fst_campaign_id")), kol_id=None)]}
    china_time_to_utc(rec["created_at"])
    return {"materials": []}


def _touch(rec: Mapping[str, Any], uid: Any, when: Any, event_type: str, *, campaign: Any = None,
           material: Any = None) -> Rows:
    return {"touchpoints": [{
        "event_id": event_id(rec["id"]), "platform": PLATFORM, "id_type": ID_TYPE, "id_value": weibo_id(uid),
        "event_time": china_time_to_utc(when), "event_type": event_type,
        "channel": "paid" if campaign else "organic", "campaign_id": _opt_id(campaign),
        "kol_id": None, "material_id": _opt_id(material), "product_id": None,
    }]}


def map_engagement(rec: dict[str, Any]) -> Rows:
    """One comment, repost or interaction record -> one touchpoint."""
    if rec.get("action") is not None:
        action = rec["action"]
        if action not in ACTIONS:
            raise InvalidInputError(f"unknown interaction action {action!r}; expected one of {sorted(ACTIONS)}")
        campaign = rec.get("campaign_id")
        # A paid exposure shows the promoted post: that post is the creative.
        return _touch(rec, rec["uid"], rec["time"], ACTIONS[action], campaign=campaign,
                      material=rec.get("mid") if campaign else None)
    user = rec.get("user") or {}
    uid = user.get("idstr") or user["id"]
    if rec.get("retweeted_status"):
        return _touch(rec, uid, rec["created_at"], "share")
    if rec.get("status"):
        return _touch(rec, uid, rec["created_at"], "comment")
    raise InvalidInputError("record is neither a comment (no 'status'), a repost (no 'retweeted_status') "
                            "nor an interaction (no 'action')")


def map_report(rec: dict[str, Any]) -> Rows:
    """One 粉丝通 creative-day row or one 微任务 KOL order -> one spend row."""
    if rec.get("order_id") is not None:
        return {"spend": [{
            "date": date.fromisoformat(str(rec["publish_date"])), "platform": PLATFORM, "channel": "kol",
            "campaign_id": None, "kol_id": weibo_id(rec["kol_uid"]), "material_id": _opt_id(rec.get("mid")),
            "spend": yuan(rec["price"]), "impressions": _count(rec["read_count"], "read_count"),
            "clicks": _count(rec["interact_count"], "interact_count"),
        }]}
    return {"spend": [{
        "date": date.fromisoformat(str(rec["date"])), "platform": PLATFORM, "channel": "paid",
        "campaign_id": weibo_id(rec["campaign_id"]), "kol_id": None, "material_id": _opt_id(rec.get("mid")),
        "spend": yuan(rec["cost"]), "impressions": _count(rec["impression"], "impression"),
        "clicks": _count(rec["click"], "click"),
    }]}


MAPPERS = {"statuses": map_status, "engagements": map_engagement, "ad_reports": map_report}
TABLES = {"statuses": ("materials",), "engagements": ("touchpoints",), "ad_reports": ("spend",)}


def normalise(stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
    """Normalise one raw batch of ``stream``; unmappable records go to rejects with the reason."""
    return map_records(batch, MAPPERS[stream], platform=PLATFORM, stream=stream, tables=TABLES[stream])
