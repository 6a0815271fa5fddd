"""Fixtures of the Weibo plugin's tests: one small world, a simulator serving it, configs and runners."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from omniplug_weibo.plugin import WeiboConfig
from omniplug_weibo.simulator import WeiboSimulator

from omniplug.plugins import PluginRegistry
from omniplug.schema import PRIMARY_KEYS
from omniplug.sync import StreamResult, sync_stream
from omniplug.testing.contract import read_tables
from omniplug.world import World

STREAM_TABLES = {"statuses": "materials", "engagements": "touchpoints", "ad_reports": "spend"}


@pytest.fixture
def sim(world: World) -> Iterator[WeiboSimulator]:
    """A running simulator of that world, on a clock frozen a day after the window."""
    with WeiboSimulator(world=world, seed=5) as simulator:
        yield simulator


@pytest.fixture
def make_config(sim: WeiboSimulator) -> Callable[..., WeiboConfig]:
    """``make_config(**overrides)``: a config pointing at ``sim`` with the credentials it accepts."""
    return lambda **overrides: WeiboConfig(**{**sim.pipeline_section(), **overrides})


@pytest.fixture
def config(make_config: Callable[..., WeiboConfig]) -> WeiboConfig:
    """The plugin's config for ``sim``."""
    result: WeiboConfig = make_config()
    return result


Runner = Callable[..., StreamResult]


@pytest.fixture
def run(registry: PluginRegistry, sim: WeiboSimulator, config: WeiboConfig) -> Runner:
    """``run(stream, out, **kwargs)``: one ``sync_stream`` on the simulator's clock."""

    def runner(stream: str, out: Path, **kwargs: Any) -> StreamResult:
        kwargs.setdefault("config", config)
        return sync_stream(registry, "weibo", stream, out_dir=out, now=sim.clock.now, **kwargs)

    return runner


@pytest.fixture
def truth(world: World) -> Callable[[str], pa.Table]:
    """``truth(table)``: the world's Weibo slice of ``table``, sorted by its primary key."""
    sl = world.slice("weibo")
    return lambda name: sl[name].sort_by([(k, "ascending") for k in PRIMARY_KEYS[name]])


@pytest.fixture
def fetched() -> Callable[[Path, str], pa.Table]:
    """``fetched(out, table)``: the compacted table in ``out``, sorted by its primary key."""
    return lambda out, name: read_tables(out, [name])[name]
