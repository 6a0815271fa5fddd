"""The Xiaohongshu plugin passes the omniplug plugin contract over real HTTP, on every stream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from omniplug_xiaohongshu.config import XiaohongshuConfig
from omniplug_xiaohongshu.simulator import XiaohongshuSimulator

from omniplug.testing import Clock, PluginContract
from omniplug.world import World

#: The contract runs every stream about eight times; eleven days of the world
#: (KOL notes are published on day one) keep that quick while every stream has data.
CONTRACT_DAYS = 11


class TestXiaohongshuContract(PluginContract):
    """Every contract test, on every stream of the plugin."""

    platform = "xiaohongshu"

    @pytest.fixture
    def simulator(self, world: World) -> Iterator[XiaohongshuSimulator]:
        """The small world's simulator, its clock eleven days into the world."""
        clock = Clock(frozen_at=world.config.start + timedelta(days=CONTRACT_DAYS))
        with XiaohongshuSimulator(world=world, clock=clock) as simulator:
            yield simulator

    @pytest.fixture
    def platform_config(self, simulator: XiaohongshuSimulator) -> XiaohongshuConfig:
        """The simulator's credentials; a first run covers those eleven days."""
        return XiaohongshuConfig(**simulator.pipeline_section(), initial_days=CONTRACT_DAYS)
