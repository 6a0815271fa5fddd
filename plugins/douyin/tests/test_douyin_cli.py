"""The command line against the simulator: ``omniplug fetch``, and a ``kill -9`` in the middle of a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from omniplug_douyin.simulator import DouyinSimulator

from omniplug.testing import Clock
from omniplug.world import World

TOUCH_PATH = "/open_api/2/dmp/brand_touch/list/"


def _toml(sim: DouyinSimulator, path: Path, **extra: Any) -> Path:
    section = {**sim.pipeline_section(), **extra}
    lines = ['output_dir = "out"', "", "[platforms.douyin]"]
    lines += [f"{k} = {v}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in section.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _omniplug(*args: str) -> list[str]:
    return [sys.executable, "-m", "omniplug.cli", *args]


_ENV = {**os.environ, "OMNIPLUG_LOAD_PLUGINS": "douyin"}


def test_fetch_writes_parquet(world: World, tmp_path: Path) -> None:
    """``omniplug fetch douyin ad_reports --since --until --out`` writes spend.parquet with the world's rows."""
    with DouyinSimulator(world=world) as sim:
        config = _toml(sim, tmp_path / "pipeline.toml")
        done = subprocess.run(_omniplug("fetch", "douyin", "ad_reports", "--config", str(config), "--since",
                                        "2026-10-01", "--until", "2026-10-31", "--out", str(tmp_path / "out")),
                              capture_output=True, text=True, env=_ENV, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    spend = pq.read_table(tmp_path / "out" / "spend.parquet")
    expected = [s for s in world.slice("douyin")["spend"].to_pylist() if s["channel"] == "paid"]
    assert spend.num_rows == len(expected)
    assert sorted(spend.column("spend").to_pylist()) == sorted(s["spend"] for s in expected)
    assert sim.ocean_tokens.initial_access not in done.stdout + done.stderr


def test_kill_9_between_pages_then_resume(world: World, tmp_path: Path, rows: Callable[..., Any]) -> None:
    """A fetch killed with SIGKILL mid-run resumes from its saved cursor to exactly the world's touchpoints."""
    # The child process uses the real time: give the simulator a real-time clock, and a
    # 60-day default window so the world's whole month is inside it.
    with DouyinSimulator(world=world, clock=Clock()) as sim:
        config = _toml(sim, tmp_path / "pipeline.toml", initial_days=60)
        out = tmp_path / "out"
        command = _omniplug("fetch", "douyin", "touchpoints", "--config", str(config), "--out", str(out))
        sim.faults.inject("slow", delay=0.1, times=100, path=TOUCH_PATH)
        child = subprocess.Popen(command, env=_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while sum(1 for r in sim.requests if r.path == TOUCH_PATH) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        first = next(r for r in sim.requests if r.path == TOUCH_PATH).query
        assert child.returncode == -signal.SIGKILL
        sim.faults.clear()
        sim.clear_requests()
        done = subprocess.run(command, env=_ENV, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        resumed = next(r for r in sim.requests if r.path == TOUCH_PATH).query
    touches = pq.read_table(out / "touchpoints.parquet")
    assert rows(touches, "touchpoints") == rows(world.slice("douyin")["touchpoints"], "touchpoints")
    # Resumed, not restarted: the second run's first page is past the first run's first page.
    assert (resumed["start_time"], int(resumed["cursor"])) > (first["start_time"], int(first["cursor"]))
