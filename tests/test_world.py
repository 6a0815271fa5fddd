"""The synthetic world: deterministic, canonical, and consistent with its own truth."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow.compute as pc
import pytest

from omniplug.fields import phone_sha256
from omniplug.schema import TABLES
from omniplug.validate import validate_batch
from omniplug.world import PLATFORMS, TEST_PHONE, World, WorldConfig, build_world


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(WorldConfig(seed=3, persons=400))


def test_same_seed_same_world(world: World) -> None:
    again = build_world(WorldConfig(seed=3, persons=400))
    for name, table in world.tables.items():
        assert table.equals(again.tables[name]), name
    other = build_world(WorldConfig(seed=4, persons=400))
    assert not other.tables["orders"].equals(world.tables["orders"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_platform_slice_passes_validation(world: World, platform: str) -> None:
    for name, table in world.slice(platform).items():
        assert table.schema.equals(TABLES[name])
        checked = validate_batch(name, table, platform=platform, stream="world")
        assert checked.n_rejected == 0, (name, checked.reasons())
        assert checked.superseded == 0, name


def test_every_linked_identifier_belongs_to_a_known_person(world: World) -> None:
    truth = {(r["id_type"], r["id_value"]) for r in world.truth["truth_identities"].to_pylist()}
    test_hash = phone_sha256(TEST_PHONE)
    for link in world.tables["identity_links"].to_pylist():
        assert (link["left_type"], link["left_value"]) in truth
        right = (link["right_type"], link["right_value"])
        assert right in truth or right == ("phone_sha256", test_hash)


def test_planted_hub_links_many_buyers(world: World) -> None:
    links = world.tables["identity_links"]
    hub = links.filter(pc.equal(links.column("right_value"), phone_sha256(TEST_PHONE)))
    douyin_orders = world.slice("douyin")["orders"].num_rows
    # The shop's test phone joins unrelated buyers: about hub_share of Douyin shop orders.
    assert hub.num_rows >= 2
    assert hub.num_rows <= 3 * world.config.hub_share * douyin_orders + 3


def test_orders_follow_their_leading_touch_inside_the_window(world: World) -> None:
    touches = {(t["platform"], t["event_id"]): t for t in world.tables["touchpoints"].to_pylist()}
    orders = {(o["platform"], o["order_id"]): o for o in world.tables["orders"].to_pylist()}
    end = world.config.end.astimezone(UTC)
    assert world.truth["truth_order_touches"].num_rows == len(orders)
    for row in world.truth["truth_order_touches"].to_pylist():
        touch = touches[(row["event_platform"], row["event_id"])]
        order = orders[(row["platform"], row["order_id"])]
        assert touch["event_time"] < order["order_time"] < end
        assert touch["id_value"] and order["id_value"]


def test_times_are_whole_seconds_and_money_adds_up(world: World) -> None:
    for t in world.tables["touchpoints"].column("event_time").to_pylist():
        assert isinstance(t, datetime) and t.microsecond == 0
    items = world.tables["order_items"].group_by(["platform", "order_id"]).aggregate([("amount", "sum")])
    totals = {(r["platform"], r["order_id"]): r["amount_sum"] for r in items.to_pylist()}
    for order in world.tables["orders"].to_pylist():
        assert totals[(order["platform"], order["order_id"])] == order["amount"]


def test_every_material_has_its_creative_in_the_truth(world: World) -> None:
    truth = {(r["platform"], r["material_id"]) for r in world.truth["truth_materials"].to_pylist()}
    assert {(m["platform"], m["material_id"]) for m in world.tables["materials"].to_pylist()} == truth
    creatives_per_platform = world.truth["truth_materials"].group_by("creative_id").aggregate([("platform", "count_distinct")])
    assert max(creatives_per_platform.column("platform_count_distinct").to_pylist()) >= 3  # reused across platforms
