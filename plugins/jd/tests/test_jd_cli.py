"""The JD plugin through the command line: real processes, real HTTP, and a kill -9 between pages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from omniplug_jd.plugin import JdConfig
from omniplug_jd.simulator import APP_SECRET, JdSimulator

from omniplug.plugins import PluginRegistry
from omniplug.sync import sync_stream
from omniplug.testing import Clock, committed_parts
from omniplug.world import World

OMNIPLUG = [sys.executable, "-m", "omniplug.cli"]
# Only this plugin: other platforms' plugins are not this test's business.
ENV = {**os.environ, "JD_APP_SECRET": APP_SECRET, "OMNIPLUG_LOAD_PLUGINS": "jd"}
WINDOW = ["--since", "2026-10-01", "--until", "2026-10-31"]


@pytest.fixture
def live_simulator(world: World) -> Iterator[JdSimulator]:
    """A simulator on real time: the CLI runs in another process and stamps requests with the real clock."""
    with JdSimulator(world=world, clock=Clock()) as sim:
        yield sim


def _pipeline(path: Path, sim: JdSimulator) -> Path:
    section = {**sim.pipeline_section(), "app_secret": "${JD_APP_SECRET}"}
    body = "\n".join(f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in section.items())
    path.write_text(f'output_dir = "out"\n\n[platforms.jd]\n{body}\n', encoding="utf-8")
    return path


def _omniplug(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*OMNIPLUG, *args], capture_output=True, text=True, env=ENV, timeout=120, check=False)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def test_fetch_orders_from_the_command_line(live_simulator: JdSimulator, world: World, tmp_path: Path) -> None:
    config = _pipeline(tmp_path / "pipeline.toml", live_simulator)
    out = tmp_path / "out"
    printed = _omniplug("fetch", "jd", "orders", "--config", str(config), *WINDOW, "--out", str(out)).stdout
    assert "orders" in printed and "order_items" in printed
    orders = pq.read_table(out / "orders.parquet")
    truth = world.slice("jd")["orders"]
    assert sorted(orders.column("order_id").to_pylist()) == sorted(truth.column("order_id").to_pylist())
    assert pc.sum(orders["amount"]).as_py() == pc.sum(truth["amount"]).as_py()
    assert pq.read_table(out / "order_items.parquet").num_rows == world.slice("jd")["order_items"].num_rows


def test_kill_9_between_pages_then_resume_gives_the_same_tables(
        live_simulator: JdSimulator, registry: PluginRegistry, world: World, tmp_path: Path) -> None:
    config = _pipeline(tmp_path / "pipeline.toml", live_simulator)
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    # The same window as WINDOW (China midnights), fetched in-process without interruption.
    sync_stream(registry, "jd", "touchpoints", config=JdConfig(**live_simulator.pipeline_section()),
                out_dir=reference, since=world.config.start, until=world.config.end)

    # Every page answers slowly, so the kill lands while the second page is in flight.
    live_simulator.faults.inject("slow", delay=0.4, times=50, path="/routerjson")
    proc = subprocess.Popen([*OMNIPLUG, "fetch", "jd", "touchpoints", "--config", str(config), *WINDOW,
                             "--out", str(killed)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while committed_parts(killed) == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert committed_parts(killed) > 0, "the run should have committed its first page before the kill"
    live_simulator.faults.clear()

    # No --since: the run resumes from the cursor saved after the first page.
    _omniplug("fetch", "jd", "touchpoints", "--config", str(config), "--out", str(killed))
    want = pq.read_table(reference / "touchpoints.parquet")
    got = pq.read_table(killed / "touchpoints.parquet")
    assert got.num_rows == want.num_rows > 500
    assert got.equals(want)
