"""The Weibo plugin passes the omniplug plugin contract over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from omniplug_weibo.plugin import WeiboConfig
from omniplug_weibo.simulator import WeiboSimulator

from omniplug.testing import PluginContract
from omniplug.world import World


class TestWeiboContract(PluginContract):
    platform = "weibo"

    @pytest.fixture
    def simulator(self, world: World) -> Iterator[WeiboSimulator]:
        with WeiboSimulator(world=world, seed=5) as sim:
            yield sim

    @pytest.fixture
    def platform_config(self, simulator: WeiboSimulator) -> WeiboConfig:
        return WeiboConfig(**simulator.pipeline_section())
