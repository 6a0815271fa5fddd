"""The Douyin plugin passes the omniplug plugin contract over real HTTP, for all six streams."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from omniplug_douyin.config import DouyinConfig
from omniplug_douyin.simulator import DouyinSimulator

from omniplug.testing import PluginContract
from omniplug.world import World, WorldConfig, build_world


@pytest.fixture(scope="module")
def contract_world() -> World:
    """A smaller world than the other tests use: the contract runs every stream about eight times."""
    return build_world(WorldConfig(seed=5, persons=60))


class TestDouyinContract(PluginContract):
    platform = "douyin"

    @pytest.fixture
    def simulator(self, contract_world: World) -> Iterator[DouyinSimulator]:
        with DouyinSimulator(world=contract_world) as sim:
            yield sim

    @pytest.fixture
    def platform_config(self, simulator: DouyinSimulator) -> DouyinConfig:
        # Small report pages, so the interrupted-run test stops between pages of one window.
        return DouyinConfig(**{**simulator.pipeline_section(), "report_page_size": 30})
