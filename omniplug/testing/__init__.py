"""Tools for plugin authors: a simulator base class and the plugin contract suite.

* :mod:`omniplug.testing.simulator` - :class:`SimulatorBase` (a real HTTP
  server on loopback), :class:`Clock`, fault injection, the request record;
* :mod:`omniplug.testing.contract` - :class:`PluginContract`, the tests every
  plugin runs against its simulator (needs pytest, imported on first use);
* :mod:`omniplug.testing.probe` - :func:`committed_parts`, to watch a fetch
  running in another process (kill -9 tests).

See ``docs/plugin-guide.md`` for a walk-through.
"""

from __future__ import annotations

from typing import Any

from omniplug.testing.probe import committed_parts
from omniplug.testing.simulator import (
    Clock,
    Faults,
    RecordedRequest,
    SimRequest,
    SimResponse,
    SimulatorBase,
    route,
)

__all__ = [
    "Clock",
    "Faults",
    "PluginContract",
    "RecordedRequest",
    "SimRequest",
    "SimResponse",
    "SimulatorBase",
    "committed_parts",
    "route",
]


def __getattr__(name: str) -> Any:
    # The contract suite imports pytest; keep it out of `omniplug simulate`.
    if name == "PluginContract":
        from omniplug.testing.contract import PluginContract

        return PluginContract
    raise AttributeError(f"module 'omniplug.testing' has no attribute {name!r}")
