"""Shared fixtures of the Douyin plugin tests: one small world, a simulator per test, a fetch helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from omniplug_douyin.config import DouyinConfig
from omniplug_douyin.simulator import DouyinSimulator

from omniplug.plugins import PluginRegistry
from omniplug.schema import PRIMARY_KEYS, TABLES
from omniplug.sync import StreamResult, sync_stream
from omniplug.testing.contract import read_tables
from omniplug.world import World, WorldConfig, build_world

#: Small enough for fast tests, big enough for several pages in every stream.
WORLD_CONFIG = WorldConfig(seed=5, persons=300)
STREAMS = ("ad_reports", "materials", "xingtu_orders", "shop_orders", "touchpoints", "identities")
#: The tables each stream yields (as the plugin declares them).
STREAM_TABLES = {"ad_reports": ("spend",), "materials": ("materials",), "xingtu_orders": ("spend", "materials"),
                 "shop_orders": ("orders", "order_items", "identity_links"), "touchpoints": ("touchpoints",),
                 "identities": ("identity_links",)}


@pytest.fixture(scope="session")
def world() -> World:
    """The world every simulator of these tests serves."""
    return build_world(WORLD_CONFIG)


@pytest.fixture
def sim(world: World) -> Iterator[DouyinSimulator]:
    """A running simulator of the shared world (fresh tokens and faults per test)."""
    with DouyinSimulator(world=world) as simulator:
        yield simulator


@pytest.fixture
def config(sim: DouyinSimulator) -> DouyinConfig:
    """A config pointing all three gateways at ``sim``, with small report pages (several per window)."""
    return DouyinConfig(**{**sim.pipeline_section(), "report_page_size": 40})


Fetch = Callable[..., StreamResult]


@pytest.fixture
def fetch(registry: PluginRegistry, world: World, tmp_path: Path) -> Fetch:
    """``fetch(sim, config, stream, out=tmp_path/"out", window=True)``: sync one stream on the sim's clock."""

    def run(sim: DouyinSimulator, config: DouyinConfig, stream: str, out: Path | None = None,
            window: bool = True, **kwargs: Any) -> StreamResult:
        extra = {"since": world.config.start, "until": world.config.end} if window else {}
        return sync_stream(registry, "douyin", stream, config=config, out_dir=out or tmp_path / "out",
                           now=sim.clock.now, **extra, **kwargs)

    return run


def _sorted_rows(table: pa.Table, name: str, drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    table = table.cast(TABLES[name]).sort_by([(k, "ascending") for k in PRIMARY_KEYS[name]])
    return [{k: v for k, v in row.items() if k not in drop} for row in table.to_pylist()]


@pytest.fixture
def rows() -> Callable[..., list[dict[str, Any]]]:
    """``rows(table, name, drop=())``: a canonical table's rows in primary-key order, minus ``drop`` columns."""
    return _sorted_rows


@pytest.fixture
def tables_of() -> Callable[[Path, tuple[str, ...]], dict[str, pa.Table]]:
    """Read the compacted canonical tables of an output folder."""
    return lambda out, names: read_tables(out, names)
