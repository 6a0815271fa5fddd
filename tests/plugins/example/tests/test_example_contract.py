"""The example plugin passes the omniplug plugin contract over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from omniplug_example.plugin import ExampleConfig
from omniplug_example.simulator import APP_KEY, APP_SECRET, ExampleSimulator

from omniplug.testing import PluginContract


class TestExampleContract(PluginContract):
    platform = "example"

    @pytest.fixture
    def simulator(self) -> Iterator[ExampleSimulator]:
        with ExampleSimulator(seed=11) as sim:
            yield sim

    @pytest.fixture
    def platform_config(self, simulator: ExampleSimulator) -> ExampleConfig:
        return ExampleConfig(
            base_url=simulator.base_url,
            app_key=APP_KEY,
            app_secret=APP_SECRET,
            session=simulator.initial_session,
            refresh_token=simulator.initial_refresh,
        )
