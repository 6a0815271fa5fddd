"""The JD plugin passes the omniplug plugin contract over real HTTP against its simulator.

The ``simulator`` and ``platform_config`` fixtures come from ``conftest.py``.
"""

from __future__ import annotations

from omniplug.testing import PluginContract


class TestJdContract(PluginContract):
    platform = "jd"
