"""The Tmall plugin passes the omniplug plugin contract over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from omniplug_tmall.config import TmallConfig
from omniplug_tmall.simulator import TmallSimulator

from omniplug.testing import PluginContract
from omniplug.world import World


class TestTmallContract(PluginContract):
    platform = "tmall"

    @pytest.fixture
    def simulator(self, world: World) -> Iterator[TmallSimulator]:
        with TmallSimulator(world=world) as sim:
            yield sim

    @pytest.fixture
    def platform_config(self, simulator: TmallSimulator) -> TmallConfig:
        # The world's 30 days and the day after, in wide windows: fewer calls than the defaults.
        return TmallConfig(**simulator.pipeline_section(), initial_days=32, orders_window_days=32,
                           members_window_days=32, report_window_days=31)
