"""pytest fixtures for plugin authors, registered through the ``pytest11`` entry point.

Installed with omniplug, so every plugin's tests can use them without a
conftest of their own (a conftest fixture of the same name still wins):

* ``world``: the small seeded synthetic world (300 consumers, 30 days) that
  plugin tests serve from their simulators;
* ``registry``: the plugins loaded from the ``omniplug`` entry-point group,
  as users load them.
"""

from __future__ import annotations

import pytest

from omniplug.plugins import PluginRegistry, load_registry
from omniplug.world import World, WorldConfig, build_world

__all__ = ["TEST_WORLD", "registry", "world"]

#: The world plugin tests share: small enough to serve fast, with every kind of record.
TEST_WORLD = WorldConfig(seed=5, persons=300)


@pytest.fixture(scope="session")
def world() -> World:
    """The small seeded world of :data:`TEST_WORLD`."""
    return build_world(TEST_WORLD)


@pytest.fixture(scope="session")
def registry() -> PluginRegistry:
    """Plugins loaded from the entry-point group, as users load them."""
    return load_registry()
