"""Time windows of the JD streams: whole seconds, at most one month, nothing lost or repeated across reruns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from omniplug_jd.client import add_month
from omniplug_jd.plugin import JdConfig
from omniplug_jd.simulator import JdSimulator
from omniplug_jd.streams import month_windows

from omniplug.plugins import PluginRegistry
from omniplug.sync import StreamResult, sync_stream
from omniplug.testing.contract import read_tables


def test_month_windows_cover_the_range_without_gaps() -> None:
    start = datetime(2026, 1, 31, 3, 0, tzinfo=UTC)
    end = datetime(2026, 5, 2, tzinfo=UTC)
    windows = month_windows(start, end)
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:], strict=False))
    assert all(hi <= add_month(lo) for lo, hi in windows)


@pytest.mark.parametrize("stream", ["orders", "touchpoints"])
@pytest.mark.parametrize("gap", [timedelta(milliseconds=300), timedelta(seconds=1, milliseconds=200)])
def test_a_rerun_within_a_second_is_accepted_and_adds_nothing(
        simulator: JdSimulator, registry: PluginRegistry, platform_config: JdConfig, tmp_path: Path, stream: str,
        gap: timedelta, gateway: Callable[[JdSimulator], list[Any]]) -> None:
    def sync(now: datetime) -> StreamResult:
        return sync_stream(registry, "jd", stream, config=platform_config, out_dir=tmp_path, now=lambda: now)

    # Real clocks carry fractions of a second; a rerun right after the last run
    # used to send a window whose last second came before its first.
    first_now = simulator.clock.now().replace(microsecond=600_000)
    first = sync(first_now)
    assert sum(first.rows.values()) > 0
    before = read_tables(tmp_path, [stream])[stream].num_rows
    sync(first_now + gap)
    assert read_tables(tmp_path, [stream])[stream].num_rows == before
    assert all(r.status == 200 for r in gateway(simulator))
