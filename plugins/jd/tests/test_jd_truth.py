"""Ground truth: every JD stream fetched from the simulator gives back exactly the world's JD slice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from omniplug_jd.plugin import JdConfig
from omniplug_jd.simulator import STREAMS, JdSimulator

from omniplug.fields import CHINA_TZ
from omniplug.plugins import PluginRegistry
from omniplug.schema import PRIMARY_KEYS, TABLES
from omniplug.sync import sync_stream
from omniplug.testing.contract import read_tables
from omniplug.world import World

YIELDED = ("orders", "order_items", "identity_links", "spend", "products", "touchpoints", "materials")


def _rows(name: str, table: pa.Table, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    rows = table.sort_by([(k, "ascending") for k in PRIMARY_KEYS[name]]).to_pylist()
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


@pytest.fixture(scope="module")
def simulator(world: World) -> Iterator[JdSimulator]:
    """One simulator for the module: the fetch below is shared by its tests."""
    with JdSimulator(world=world) as sim:
        yield sim


@pytest.fixture(scope="module")
def fetched(registry: PluginRegistry, simulator: JdSimulator, tmp_path_factory: pytest.TempPathFactory,
            world: World) -> dict[str, pa.Table]:
    """Every stream fetched for the world's 30-day window into one folder."""
    out: Path = tmp_path_factory.mktemp("jd-truth")
    config = JdConfig(**simulator.pipeline_section())
    for stream in STREAMS:
        result = sync_stream(registry, "jd", stream, config=config, out_dir=out, since=world.config.start,
                             until=world.config.end, now=simulator.clock.now)
        assert not result.rejects, f"{stream}: {dict(result.rejects)}"
    return read_tables(out, list(TABLES))


def test_every_table_matches_the_world_slice(fetched: dict[str, pa.Table], world: World) -> None:
    truth = world.slice("jd")
    assert set(fetched) == set(YIELDED)
    for name in YIELDED:
        drop = ("uri",) if name == "materials" else ()
        assert fetched[name].num_rows == truth[name].num_rows > 0, name
        assert _rows(name, fetched[name], drop) == _rows(name, truth[name], drop), f"{name} differs from the world"
    for name, column in (("orders", "amount"), ("order_items", "amount"), ("spend", "spend")):
        assert pc.sum(fetched[name][column]).as_py() == pc.sum(truth[name][column]).as_py()
    pairs = {(r["left_value"], r["right_value"]) for r in fetched["identity_links"].to_pylist()}
    assert pairs == {(r["left_value"], r["right_value"]) for r in truth["identity_links"].to_pylist()}


def test_material_uris_download_real_bytes(fetched: dict[str, pa.Table], simulator: JdSimulator) -> None:
    for uri in fetched["materials"].column("uri").to_pylist():
        assert uri.startswith(simulator.base_url + "/media/")
        first = httpx.get(uri, timeout=60)
        assert first.status_code == 200 and first.headers["content-type"] in ("image/jpeg", "video/mp4")
        assert first.content[:3] == b"\xff\xd8\xff" or first.content[4:8] == b"ftyp"
        assert httpx.get(uri, timeout=60).content == first.content  # cached, stable bytes
    assert httpx.get(simulator.base_url + "/media/m000000000.jpg").status_code == 404


def test_sku_ids_above_2_53_stay_exact(fetched: dict[str, pa.Table], simulator: JdSimulator) -> None:
    served = [s["skuId"] for s in simulator.rendered.skus]
    # Served as bare JSON numbers that a float would round.
    assert all(isinstance(i, int) and i > 2**53 for i in served)
    assert any(int(float(i)) != i for i in served)
    assert sorted(fetched["products"].column("product_id").to_pylist()) == sorted(str(i) for i in served)


def test_china_wall_time_becomes_utc(fetched: dict[str, pa.Table], simulator: JdSimulator) -> None:
    order = simulator.rendered.orders[0]
    wall = datetime.strptime(order["orderStartTime"], "%Y-%m-%d %H:%M:%S")
    row = fetched["orders"].filter(pc.equal(fetched["orders"]["order_id"], order["orderId"])).to_pylist()[0]
    assert row["order_time"] == wall.replace(tzinfo=CHINA_TZ)
    assert row["order_time"].astimezone(UTC).hour == (wall.hour - 8) % 24
