"""``omniplug fetch weibo ...`` as a real process against the simulator in this process, and kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from omniplug_weibo.simulator import WeiboSimulator

from omniplug.testing import committed_parts
from omniplug.world import World

OMNIPLUG = [sys.executable, "-m", "omniplug.cli"]
TOKEN_ENV = "WEIBO_TEST_ACCESS_TOKEN"


@pytest.fixture
def served(world: World) -> Iterator[WeiboSimulator]:
    """A simulator for another process: its tokens are checked on the simulator's own frozen clock."""
    with WeiboSimulator(world=world, seed=5) as sim:
        yield sim


def _pipeline(path: Path, sim: WeiboSimulator) -> Path:
    section = {**sim.pipeline_section(), "access_token": f"${{{TOKEN_ENV}}}", "app_secret": f"${{{TOKEN_ENV}}}"}
    body = "\n".join(f'{key} = "{value}"' for key, value in section.items())
    path.write_text(f'output_dir = "out"\n\n[platforms.weibo]\n{body}\n', encoding="utf-8")
    return path


def _run(sim: WeiboSimulator, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*OMNIPLUG, *args], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, TOKEN_ENV: sim.initial_token, "OMNIPLUG_LOAD_PLUGINS": "weibo"})
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def test_fetch_ad_reports_for_a_window_writes_spend(served: WeiboSimulator, truth: Callable[[str], pa.Table],
                                                    tmp_path: Path) -> None:
    config = _pipeline(tmp_path / "pipeline.toml", served)
    out = tmp_path / "out"
    proc = _run(served, "fetch", "weibo", "ad_reports", "--config", str(config), "--since", "2026-10-01",
                "--until", "2026-10-31", "--out", str(out))
    assert "spend" in proc.stdout
    assert served.initial_token not in proc.stdout + proc.stderr
    assert pq.read_table(out / "spend.parquet").equals(truth("spend"))


def test_kill_9_mid_walk_then_resume_gives_the_worlds_touchpoints(
    served: WeiboSimulator, truth: Callable[[str], pa.Table], tmp_path: Path,
) -> None:
    config = _pipeline(tmp_path / "pipeline.toml", served)
    out = tmp_path / "killed"
    served.faults.inject("slow", delay=0.3, times=60, path="/2/comments/show.json")
    proc = subprocess.Popen([*OMNIPLUG, "fetch", "weibo", "engagements", "--config", str(config), "--out", str(out)],
                            env={**os.environ, TOKEN_ENV: served.initial_token, "OMNIPLUG_LOAD_PLUGINS": "weibo"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while committed_parts(out) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert committed_parts(out) >= 2, "the run should have committed pages before the kill"
    assert not (out / "touchpoints.parquet").exists(), "the kill should land before the walk finished"
    served.faults.clear()
    _run(served, "fetch", "weibo", "engagements", "--config", str(config), "--out", str(out))
    assert pq.read_table(out / "touchpoints.parquet").equals(truth("touchpoints"))
