"""``omniplug fetch xiaohongshu ...`` as a user runs it, and a ``kill -9`` in the middle of the Ark walk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from omniplug_xiaohongshu.client import ARK_PATH
from omniplug_xiaohongshu.simulator import XiaohongshuSimulator

from omniplug.state import STATE_FILENAME, StateStore
from omniplug.testing import Clock
from omniplug.world import World


@pytest.fixture
def live_sim(world: World) -> Iterator[XiaohongshuSimulator]:
    """A simulator on real time: the CLI runs in another process with the real clock."""
    with XiaohongshuSimulator(world=world, clock=Clock()) as simulator:
        yield simulator


def _pipeline(sim: XiaohongshuSimulator, path: Path, **extra: Any) -> Path:
    lines = ["[platforms.xiaohongshu]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in {**sim.pipeline_section(), **extra}.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _omniplug(*args: str) -> list[str]:
    return [sys.executable, "-m", "omniplug.cli", *args]


def test_cli_fetch_writes_the_tables(live_sim: XiaohongshuSimulator, truth: Any, output: Any, tmp_path: Path) -> None:
    """The documented command, against the simulator, writes OUT/<table>.parquet with the world's rows."""
    config = _pipeline(live_sim, tmp_path / "pipeline.toml")
    out = tmp_path / "out"
    done = subprocess.run(_omniplug("fetch", "xiaohongshu", "shop_orders", "--config", str(config),
                                    "--since", "2026-10-01", "--until", "2026-10-31", "--out", str(out)),
                          check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for name in ("orders", "order_items", "identity_links"):
        assert (out / f"{name}.parquet").exists()
        assert output(out, name).to_pylist() == truth(name).to_pylist(), name
    assert "orders" in done.stdout


def test_kill_9_inside_the_ark_walk_resumes_to_the_same_tables(live_sim: XiaohongshuSimulator, truth: Any,
                                                                output: Any, tmp_path: Path) -> None:
    """Killed after committing a page mid-walk, the rerun resumes at the saved window and loses nothing."""
    config = _pipeline(live_sim, tmp_path / "pipeline.toml", initial_days=60)
    out = tmp_path / "out"
    def command(pipeline: Path) -> list[str]:
        return _omniplug("fetch", "xiaohongshu", "shop_orders", "--config", str(pipeline), "--out", str(out))

    live_sim.faults.inject("slow", times=200, path=ARK_PATH, delay=0.1)
    process = subprocess.Popen(command(config), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cursor = None
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and process.poll() is None:
            if (out / STATE_FILENAME).exists():
                with StateStore.open(out) as state:
                    cursor = state.get_cursor("xiaohongshu", "shop_orders")
                if cursor is not None:
                    break
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert cursor is not None and "walk_end" in cursor, "the run was not caught inside its walk"
    with StateStore.open(out) as state:
        killed_at = state.get_cursor("xiaohongshu", "shop_orders")  # what the rerun starts from
    assert killed_at is not None and "walk_end" in killed_at
    live_sim.faults.clear()
    # The rerun carries a second shop token, so its requests are told apart from
    # the killed process's last one, which the server may still be answering.
    live_sim.ark_tokens["ark-at-rerun"] = live_sim.ark_tokens[live_sim.initial_ark_token]
    rerun = _pipeline(live_sim, tmp_path / "rerun.toml", initial_days=60, ark_access_token="ark-at-rerun")
    done = subprocess.run(command(rerun), check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    first_list = next(body for body in (json.loads(r.body) for r in live_sim.requests if r.path == ARK_PATH)
                      if body.get("accessToken") == "ark-at-rerun")
    resumed_at = datetime.fromisoformat(killed_at["window_start"])
    assert first_list["method"] == "order.getOrderList"
    assert first_list["startTime"] == int(resumed_at.timestamp())
    assert resumed_at > datetime.fromisoformat(killed_at["walk_start"])  # resumed, not restarted
    with StateStore.open(out) as state:
        assert "watermark" in (state.get_cursor("xiaohongshu", "shop_orders") or {})
    for name in ("orders", "order_items", "identity_links"):
        assert output(out, name).to_pylist() == truth(name).to_pylist(), name
