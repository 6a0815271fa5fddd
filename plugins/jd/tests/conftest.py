"""Shared fixtures of the JD plugin tests: one small world, a simulator serving it, a config for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from omniplug_jd.plugin import JdConfig
from omniplug_jd.simulator import JdSimulator

from omniplug.plugins import PluginRegistry
from omniplug.sync import StreamResult, sync_stream
from omniplug.world import World


@pytest.fixture
def simulator(world: World) -> Iterator[JdSimulator]:
    """A JD simulator serving the small world, its clock frozen a day after the window."""
    with JdSimulator(world=world) as sim:
        yield sim


@pytest.fixture
def platform_config(simulator: JdSimulator) -> JdConfig:
    """``[platforms.jd]`` pointing at the simulator."""
    return JdConfig(**simulator.pipeline_section())


Sync = Callable[..., StreamResult]


@pytest.fixture
def sync(registry: PluginRegistry, simulator: JdSimulator, platform_config: JdConfig) -> Sync:
    """``sync(stream, out, *, config=..., window=True, **kw)``: one stream on the simulator's clock.

    By default over the world's whole window; ``window=False`` resumes from the saved cursor instead.
    """

    def run(stream: str, out: Path, *, config: JdConfig | None = None, window: bool = True,
            **kwargs: Any) -> StreamResult:
        if window:
            kwargs.setdefault("since", simulator.world.config.start)
            kwargs.setdefault("until", simulator.world.config.end)
        return sync_stream(registry, "jd", stream, config=config or platform_config, out_dir=out,
                           now=simulator.clock.now, **kwargs)

    return run


def gateway_requests(sim: JdSimulator) -> list[Any]:
    """The requests the simulator's ``/routerjson`` received."""
    return [r for r in sim.requests if r.path == "/routerjson"]


@pytest.fixture
def gateway() -> Callable[[JdSimulator], list[Any]]:
    """``gateway(sim)``: the requests the simulator's ``/routerjson`` received."""
    return gateway_requests
