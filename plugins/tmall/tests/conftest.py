"""Fixtures of the Tmall plugin tests: a small seeded world, its simulator, a config pointing there."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest
from omniplug_tmall.client import china_stamp
from omniplug_tmall.config import TmallConfig
from omniplug_tmall.signing import sign
from omniplug_tmall.simulator import APP_KEY, APP_SECRET, TmallSimulator

from omniplug.plugins import PluginRegistry
from omniplug.schema import PRIMARY_KEYS
from omniplug.sync import StreamResult, sync_stream
from omniplug.testing.contract import read_tables
from omniplug.world import World

STREAMS = ("orders", "members", "ad_reports", "touchpoints", "products", "materials")
TABLES = ("orders", "order_items", "identity_links", "spend", "touchpoints", "products", "materials")


@pytest.fixture
def sim(world: World) -> Iterator[TmallSimulator]:
    """A running simulator of ``world`` (clock frozen a day after the window)."""
    with TmallSimulator(world=world) as simulator:
        yield simulator


@pytest.fixture
def config(sim: TmallSimulator) -> TmallConfig:
    """The plugin's config pointing at ``sim`` with credentials it accepts."""
    return TmallConfig(**sim.pipeline_section())


Fetch = Callable[..., dict[str, StreamResult]]


@pytest.fixture
def fetch(registry: PluginRegistry, sim: TmallSimulator, config: TmallConfig) -> Fetch:
    """``fetch(out, streams=STREAMS, since=None, until=None, config=config)``: sync streams on the sim's clock."""

    def run(out: Path, streams: Sequence[str] = STREAMS, *, since: datetime | None = None,
            until: datetime | None = None, cfg: TmallConfig | None = None) -> dict[str, StreamResult]:
        return {s: sync_stream(registry, "tmall", s, config=cfg or config, out_dir=out, since=since, until=until,
                               now=sim.clock.now) for s in streams}

    return run


@pytest.fixture
def window(world: World) -> dict[str, datetime]:
    """``since``/``until`` of the world's 30 days."""
    return {"since": world.config.start, "until": world.config.end}


def read(out: Path, names: Sequence[str] = TABLES) -> dict[str, pa.Table]:
    """The compacted tables in ``out``, sorted by primary key."""
    return read_tables(out, list(names))


def truth(world: World, name: str) -> pa.Table:
    """The world's Tmall slice of ``name``, sorted by primary key."""
    table = world.slice("tmall")[name]
    return table.sort_by([(k, "ascending") for k in PRIMARY_KEYS[name]])


@pytest.fixture
def tables() -> Callable[..., dict[str, pa.Table]]:
    """``tables(out, names=TABLES)``: the compacted tables of an output folder."""
    return read


@pytest.fixture
def expected(world: World) -> Callable[[str], pa.Table]:
    """``expected(name)``: the world's Tmall slice of a table, sorted by primary key."""
    return lambda name: truth(world, name)


@pytest.fixture
def top_call(sim: TmallSimulator) -> Callable[..., dict[str, Any]]:
    """``top_call(method, secret=..., sign_method=..., **params)``: one signed raw TOP call to ``sim``."""

    def call(method: str, *, secret: str = APP_SECRET, sign_method: str = "md5", **params: Any) -> dict[str, Any]:
        p = {"method": method, "app_key": APP_KEY, "timestamp": china_stamp(sim.clock.now()), "v": "2.0",
             "sign_method": sign_method, "format": "json", "session": sim.initial_session,
             **{k: str(v) for k, v in params.items()}}
        p["sign"] = sign(p, secret, sign_method)
        return httpx.post(f"{sim.base_url}/router/rest", data=p, timeout=30).json()

    return call
