"""The demo end to end: the world served by every platform simulator, fetched over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from omniplug.demo import run_demo
from omniplug.errors import ConfigError
from omniplug.plugins import load_registry
from omniplug.world import PLATFORMS


def test_demo_fetches_exactly_the_world(tmp_path: Path) -> None:
    result = run_demo(load_registry(), tmp_path / "demo", scale=0.1, seed=11)
    assert result.platforms == list(PLATFORMS), f"missing plugins: {result.missing}"
    assert result.comparison, "nothing was compared"
    mismatches = {k: v for k, v in result.comparison.items() if v[0] != v[1]}
    assert not mismatches
    assert result.matches_truth
    # The outputs are real Parquet files holding every platform.
    platforms = set(pq.read_table(tmp_path / "demo" / "touchpoints.parquet").column("platform").to_pylist())
    assert platforms == set(PLATFORMS)
    assert not (tmp_path / "demo" / "rejects.parquet").exists()
    # The demo's report card: stitching against the truth, attribution against the behaviour model.
    assert result.stitching is not None
    precision, recall = result.stitching
    assert precision >= 0.99 and recall >= 0.95, result.stitching
    # Asset grouping against the world's creatives: every platform's re-edit, videos included.
    assert result.assets is not None
    precision, recall = result.assets
    assert precision >= 0.99 and recall >= 0.95, result.assets
    assert (tmp_path / "demo" / "report.html").exists() and (tmp_path / "demo" / "asset_groups.parquet").exists()
    assert {"fetch", "fingerprint", "stitch", "attribute"} <= set(result.throughput())
    assert set(result.attribution) == {"last_touch", "linear"}
    assert all(0.5 < v <= 1.0 for v in result.attribution.values()), result.attribution


def test_the_demo_runs_again_into_its_own_folder_and_refuses_a_foreign_one(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run_demo(load_registry(), out, scale=0.05, seed=5)
    # The second run's simulators issue new tokens: the first run's saved ones must not be used.
    again = run_demo(load_registry(), out, scale=0.05, seed=5)
    assert again.matches_truth and again.run is not None and sum(again.run.rows.values()) > 0
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not empty and was not written by omniplug demo"):
        run_demo(load_registry(), foreign, scale=0.05, seed=5)
    assert (foreign / "notes.txt").read_text() == "keep me"
