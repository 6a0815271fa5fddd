"""Ground truth: every stream fetched from the simulator gives back the world's Douyin slice exactly."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from omniplug_douyin.config import DouyinConfig
from omniplug_douyin.simulator import DouyinSimulator

from omniplug.fields import CHINA_TZ
from omniplug.world import World

STREAMS = ("ad_reports", "materials", "xingtu_orders", "shop_orders", "touchpoints", "identities")
TABLES = ("spend", "materials", "orders", "order_items", "identity_links", "touchpoints")


def _fetch_all(sim: DouyinSimulator, config: DouyinConfig, fetch: Callable[..., Any], out: Path) -> None:
    for stream in STREAMS:
        result = fetch(sim, config, stream, out=out)
        assert not result.rejects, (stream, dict(result.rejects))


def test_every_table_matches_the_world_slice(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                            fetch: Callable[..., Any], tables_of: Callable[..., Any],
                                            rows: Callable[..., Any], tmp_path: Path) -> None:
    """Row counts, amounts, identifier pairs, every primary key: all equal the world's (materials: all but uri)."""
    _fetch_all(sim, config, fetch, tmp_path)
    got = tables_of(tmp_path, TABLES)
    truth = world.slice("douyin")
    assert set(got) == set(TABLES)
    for name in TABLES:
        drop = ("uri",) if name == "materials" else ()
        assert got[name].num_rows == truth[name].num_rows, name
        assert rows(got[name], name, drop) == rows(truth[name], name, drop), f"{name} differs from the world"
    spend = got["spend"]
    assert sum(spend.column("spend").to_pylist()) == sum(truth["spend"].column("spend").to_pylist())
    assert {c for c in spend.column("channel").to_pylist()} == {"paid", "kol"}
    links = {(r["left_type"], r["right_type"]) for r in got["identity_links"].to_pylist()}
    assert links == {("douyin_openid", "douyin_unionid"), ("douyin_openid", "phone_sha256"), ("oaid", "douyin_openid")}


def test_the_test_phone_hub_is_delivered(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                         fetch: Callable[..., Any], tables_of: Callable[..., Any],
                                         tmp_path: Path) -> None:
    """Orders placed with the shop's test phone link several buyers to one phone hash (the planted hub)."""
    fetch(sim, config, "shop_orders", out=tmp_path)
    links = tables_of(tmp_path, ("identity_links",))["identity_links"].to_pylist()
    hub = hashlib.sha256(b"13800138000").hexdigest()
    buyers = {r["left_value"] for r in links if r["right_value"] == hub}
    expected = {r["left_value"] for r in world.slice("douyin")["identity_links"].to_pylist() if r["right_value"] == hub}
    assert buyers == expected and len(buyers) >= 1


def test_material_uris_download_real_bytes_with_the_listed_md5(sim: DouyinSimulator, config: DouyinConfig,
                                                               fetch: Callable[..., Any],
                                                               tables_of: Callable[..., Any], tmp_path: Path) -> None:
    """Library URLs serve the file whose MD5 Ocean Engine listed; they expire after one simulated hour."""
    fetch(sim, config, "materials", out=tmp_path)
    materials = tables_of(tmp_path, ("materials",))["materials"].to_pylist()
    listed = httpx.get(f"{sim.base_url}/open_api/2/file/image/get/",
                       headers={"Access-Token": config.access_token.get_secret_value()},
                       params={"advertiser_id": config.advertiser_id, "page_size": 100}).json()["data"]["list"]
    md5 = {str(item["material_id"]): item["signature"] for item in listed}
    for kind, magic in (("image", b"\xff\xd8"), ("video", b"ftyp")):
        item = next(m for m in materials if m["media_type"] == kind)
        body = httpx.get(item["uri"]).content
        assert magic in body[:16], kind
        if kind == "image":
            assert hashlib.md5(body).hexdigest() == md5[item["material_id"]]
    sim.clock.advance(3601)
    assert httpx.get(materials[0]["uri"]).status_code == 403


def test_ids_above_2_53_stay_exact(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                   fetch: Callable[..., Any], tables_of: Callable[..., Any], tmp_path: Path) -> None:
    """Ocean Engine sends material and event ids as JSON numbers above 2**53; they arrive digit for digit."""
    raw = httpx.get(f"{sim.base_url}/open_api/2/file/video/get/",
                    headers={"Access-Token": config.access_token.get_secret_value()},
                    params={"advertiser_id": config.advertiser_id}).text
    first = json.loads(raw)["data"]["list"][0]["material_id"]
    assert isinstance(first, int) and first > 2**53 and f'"material_id": {first}' in raw
    fetch(sim, config, "touchpoints", out=tmp_path)
    fetch(sim, config, "materials", out=tmp_path)
    got = tables_of(tmp_path, ("touchpoints", "materials"))
    assert str(first) in got["materials"].column("material_id").to_pylist()
    ids = set(got["touchpoints"].column("event_id").to_pylist())
    assert ids == set(world.slice("douyin")["touchpoints"].column("event_id").to_pylist())
    assert all(int(i) > 2**53 for i in ids)


def test_china_time_becomes_utc(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                fetch: Callable[..., Any], tables_of: Callable[..., Any], tmp_path: Path) -> None:
    """A touch served as China wall time lands eight hours earlier in UTC."""
    served = httpx.get(f"{sim.base_url}{config.touch_events_path}",
                       headers={"Access-Token": config.access_token.get_secret_value()},
                       params={"advertiser_id": config.advertiser_id, "start_time": "2026-10-01 00:00:00",
                               "end_time": "2026-10-30 00:00:00", "count": 1}).json()["data"]["list"][0]
    fetch(sim, config, "touchpoints", out=tmp_path)
    touches = {r["event_id"]: r for r in tables_of(tmp_path, ("touchpoints",))["touchpoints"].to_pylist()}
    event_time = touches[str(served["event_id"])]["event_time"]
    wall = datetime.strptime(served["event_time"], "%Y-%m-%d %H:%M:%S")
    assert event_time == wall.replace(tzinfo=UTC) - timedelta(hours=8)
    assert event_time.astimezone(CHINA_TZ).replace(tzinfo=None) == wall
