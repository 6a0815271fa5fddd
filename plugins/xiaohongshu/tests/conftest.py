"""Shared fixtures: a small world, a simulator serving it, a config pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from omniplug_xiaohongshu.config import XiaohongshuConfig
from omniplug_xiaohongshu.simulator import XiaohongshuSimulator

from omniplug.fields import parse_when
from omniplug.plugins import PluginRegistry
from omniplug.schema import PRIMARY_KEYS, TABLES
from omniplug.sync import StreamResult, sync_stream
from omniplug.testing.contract import read_tables
from omniplug.world import World

SINCE, UNTIL = "2026-10-01", "2026-10-31"  # the world's 30 days, China time


@pytest.fixture
def sim(world: World) -> Iterator[XiaohongshuSimulator]:
    """A running simulator of the small world (clock frozen a day after the world ends)."""
    with XiaohongshuSimulator(world=world) as simulator:
        yield simulator


@pytest.fixture
def config(sim: XiaohongshuSimulator) -> XiaohongshuConfig:
    """The plugin config pointing at ``sim``."""
    return XiaohongshuConfig(**sim.pipeline_section())


Fetch = Callable[..., StreamResult]


@pytest.fixture
def fetch(registry: PluginRegistry, sim: XiaohongshuSimulator, config: XiaohongshuConfig) -> Fetch:
    """``fetch(stream, out, *, window=True, config=..., **sync_kwargs)``: sync one stream on the simulator's clock.

    Over the world's window unless ``window=False`` (then from the saved cursor).
    """

    def run(stream: str, out: Path, *, window: bool = True, config: XiaohongshuConfig = config,
            **kwargs: Any) -> StreamResult:
        if window:
            kwargs.setdefault("since", parse_when(SINCE))
            kwargs.setdefault("until", parse_when(UNTIL))
        return sync_stream(registry, "xiaohongshu", stream, config=config, out_dir=out, now=sim.clock.now, **kwargs)

    return run


def world_table(world: World, name: str) -> pa.Table:
    """The world's Xiaohongshu rows of ``name``, sorted like the output files."""
    table = world.slice("xiaohongshu")[name].cast(TABLES[name])
    return table.sort_by([(k, "ascending") for k in PRIMARY_KEYS[name]])


def output_table(out: Path, name: str) -> pa.Table:
    """The compacted output table ``name`` in ``out``."""
    return read_tables(out, [name])[name]


@pytest.fixture
def truth(world: World) -> Callable[[str], pa.Table]:
    """``truth(table)``: the world's rows of that table (see :func:`world_table`)."""
    return lambda name: world_table(world, name)


@pytest.fixture
def output() -> Callable[[Path, str], pa.Table]:
    """``output(out_dir, table)``: a compacted output table (see :func:`output_table`)."""
    return output_table
