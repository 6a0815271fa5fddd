"""The command line against the simulator: real processes, real HTTP, and a real ``kill -9``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pyarrow.parquet as pq
import pytest
from omniplug_tmall.simulator import APP_SECRET, TmallSimulator

from omniplug.fields import CHINA_TZ
from omniplug.schema import PRIMARY_KEYS
from omniplug.testing import Clock, committed_parts
from omniplug.world import World, WorldConfig, build_world

OMNIPLUG = [sys.executable, "-m", "omniplug.cli"]
ENV = {**os.environ, "TMALL_APP_SECRET": APP_SECRET, "OMNIPLUG_LOAD_PLUGINS": "tmall"}


@pytest.fixture(scope="module")
def live_world() -> World:
    """A world whose 30 days ended at the last China midnight: the CLI stamps requests with real time."""
    today = datetime.now(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return build_world(WorldConfig(seed=5, persons=300, start=today - timedelta(days=30)))


@pytest.fixture
def live_sim(live_world: World) -> Iterator[TmallSimulator]:
    with TmallSimulator(world=live_world, clock=Clock()) as sim:
        yield sim


def _pipeline(path: Path, sim: TmallSimulator) -> Path:
    section = {**sim.pipeline_section(), "app_secret": "${TMALL_APP_SECRET}"}
    body = "\n".join(f'{k} = "{v}"' for k, v in section.items())
    path.write_text(f'output_dir = "out"\n\n[platforms.tmall]\n{body}\n', encoding="utf-8")
    return path


def _fetch(config: Path, out: Path, *window: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*OMNIPLUG, "fetch", "tmall", "orders", "--config", str(config), *window,
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def _finish(proc: subprocess.Popen[str]) -> str:
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    return stdout


def _expected_orders(world: World) -> list[dict[str, object]]:
    table = world.slice("tmall")["orders"]
    return table.sort_by([(k, "ascending") for k in PRIMARY_KEYS["orders"]]).to_pylist()


def _window(world: World) -> list[str]:
    return ["--since", world.config.start.strftime("%Y-%m-%d"), "--until", world.config.end.strftime("%Y-%m-%d")]


def test_cli_fetch_writes_the_tables_and_a_second_run_finds_nothing_new(
    live_sim: TmallSimulator, live_world: World, tmp_path: Path
) -> None:
    config, out = _pipeline(tmp_path / "pipeline.toml", live_sim), tmp_path / "out"
    stdout = _finish(_fetch(config, out, *_window(live_world)))
    assert "orders" in stdout and "order_items" in stdout
    assert pq.read_table(out / "orders.parquet").to_pylist() == _expected_orders(live_world)
    assert pq.read_table(out / "order_items.parquet").num_rows == live_world.slice("tmall")["order_items"].num_rows
    again = _finish(_fetch(config, out))  # resumes by modification time: nothing changed since
    assert "nothing new" in again
    assert any(b"taobao.trades.sold.increment.get" in r.body for r in live_sim.requests)


def test_kill_9_between_pages_then_resume_gives_the_same_tables(
    live_sim: TmallSimulator, live_world: World, tmp_path: Path
) -> None:
    config, out = _pipeline(tmp_path / "pipeline.toml", live_sim), tmp_path / "out"
    hold = threading.Event()
    live_sim.after_calls(3, lambda: hold.wait(60))  # the third page is held until the process is dead
    proc = _fetch(config, out, *_window(live_world))
    try:
        deadline = time.monotonic() + 60
        while committed_parts(out) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert committed_parts(out) >= 2, "the run never committed its first pages"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        hold.set()
    assert proc.returncode == -signal.SIGKILL
    before = len(live_sim.requests)
    _finish(_fetch(config, out))  # no window: resume from the saved cursor
    resumed = [parse_qs(r.body.decode()) for r in live_sim.requests[before:] if r.path == "/router/rest"]
    since = live_world.config.start.strftime("%Y-%m-%d %H:%M:%S")
    assert resumed and (resumed[0]["start_created"], resumed[0]["page_no"]) != ([since], ["1"])  # no restart
    assert pq.read_table(out / "orders.parquet").to_pylist() == _expected_orders(live_world)
