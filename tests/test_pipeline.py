"""``omniplug run`` end to end against all five simulators on real time, incl. kill -9 and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from omniplug.config import load_pipeline
from omniplug.fields import CHINA_TZ
from omniplug.pipeline import run_pipeline
from omniplug.plugins import load_registry
from omniplug.testing import Clock
from omniplug.world import PLATFORMS, World, WorldConfig, build_world


def committed_parts(out: Path) -> int:
    import sqlite3

    from omniplug.state import STATE_FILENAME

    try:
        with sqlite3.connect(f"file:{out / STATE_FILENAME}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM parts").fetchone()[0]
    except sqlite3.Error:
        return 0


TABLES = ("orders", "order_items", "identity_links", "touchpoints", "spend", "materials", "products")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # strings and lists of strings are valid TOML this way


@pytest.fixture(scope="module")
def world() -> World:
    # A world whose 30-day window ends today, so plugins' default first-run windows cover it.
    today = datetime.now(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return build_world(WorldConfig(seed=21, persons=150, start=today - timedelta(days=30)))


@pytest.fixture
def simulators(world: World) -> Iterator[dict[str, Any]]:
    registry = load_registry()
    sims = {name: registry.platform(name).simulator(world=world, seed=21, clock=Clock()).start() for name in PLATFORMS}
    yield sims
    for sim in sims.values():
        sim.stop()


def write_pipeline(path: Path, out: Path, sims: dict[str, Any]) -> Path:
    lines = [f"output_dir = {json.dumps(str(out))}", ""]
    for name, sim in sims.items():
        lines.append(f"[platforms.{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in sim.pipeline_section().items() if value is not None]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_run_writes_every_table_and_a_database_then_adds_nothing(
    simulators: dict[str, Any], world: World, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config = load_pipeline(write_pipeline(tmp_path / "pipeline.toml", out, simulators))
    registry = load_registry()
    first = run_pipeline(config, registry)
    for table in TABLES:
        # Only platforms with a stream yielding the table (Douyin has no product listing stream).
        sources = [p for p in PLATFORMS if any(table in s.tables for s in registry.platform(p).streams)]
        expected = sum(world.slice(p)[table].num_rows for p in sources)
        assert pq.read_table(out / f"{table}.parquet").num_rows == expected, table
    with duckdb.connect(str(out / "omniplug.duckdb"), read_only=True) as db:
        assert db.execute("select count(*) from orders").fetchone()[0] == world.tables["orders"].num_rows
        paid = db.execute("select sum(amount) from orders").fetchone()[0]
    assert paid == sum(world.tables["orders"].column("amount").to_pylist())
    assert first.rows["touchpoints"] == world.tables["touchpoints"].num_rows
    # The engine steps ran on what was fetched.
    attribution = pq.read_table(out / "attribution.parquet")
    assert set(attribution.column("model").to_pylist()) == {"last_touch", "linear"}
    paid = world.tables["orders"].filter([s == "paid" for s in world.tables["orders"].column("status").to_pylist()])
    for model in ("last_touch", "linear"):
        rows = [r for r in attribution.to_pylist() if r["model"] == model]
        assert abs(sum(r["conversions"] for r in rows) - paid.num_rows) < 1e-6  # conservation
    assert pq.read_table(out / "persons.parquet").num_rows > 0 and (out / "stitch_report.json").exists()
    assert set(pq.read_table(out / "aipl.parquet").column("stage").to_pylist()) <= {"A", "I", "P", "L"}
    with duckdb.connect(str(out / "omniplug.duckdb"), read_only=True) as db:
        assert db.execute("select count(*) from persons").fetchone()[0] > 0
        assert db.execute("select count(*) from attribution").fetchone()[0] == attribution.num_rows

    stamps = {t: (out / f"{t}.parquet").stat().st_mtime_ns for t in TABLES}
    db_stamp = (out / "omniplug.duckdb").stat().st_mtime_ns
    second = run_pipeline(config, load_registry())
    # Incremental streams fetch nothing; snapshot streams (product lists, members,
    # report look-backs) re-read, but nothing changes on disk.
    assert second.rows["orders"] == 0 and second.rows["touchpoints"] == 0, second.to_json()
    assert not second.rejects and not second.tables, second.to_json()
    assert second.database is None
    assert {t: (out / f"{t}.parquet").stat().st_mtime_ns for t in TABLES} == stamps  # nothing rewritten
    assert (out / "omniplug.duckdb").stat().st_mtime_ns == db_stamp


def test_kill_9_anywhere_then_resume_gives_the_same_outputs(simulators: dict[str, Any], tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    run_pipeline(load_pipeline(write_pipeline(tmp_path / "ref.toml", reference, simulators)), load_registry())

    out = tmp_path / "killed"
    pipeline = write_pipeline(tmp_path / "killed.toml", out, simulators)
    for sim in simulators.values():
        sim.faults.inject("slow", delay=0.05, times=400)
    proc = subprocess.Popen([sys.executable, "-m", "omniplug.cli", "run", str(pipeline)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while committed_parts(out) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert committed_parts(out) >= 3, "the run should have committed some pages before the kill"
    for sim in simulators.values():
        sim.faults.clear()
    resumed = subprocess.run([sys.executable, "-m", "omniplug.cli", "run", str(pipeline), "--json"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    for table in TABLES:
        got, want = pq.read_table(out / f"{table}.parquet"), pq.read_table(reference / f"{table}.parquet")
        if table == "materials":  # Douyin's material URLs are signed with their expiry time
            got, want = got.drop_columns(["uri"]), want.drop_columns(["uri"])
        assert got.equals(want), table


def test_unknown_platform_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('output_dir = "out"\n[platforms.kuaishou]\napp_key = "x"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "omniplug.cli", "run", str(pipeline)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "platforms.kuaishou: unknown platform" in proc.stderr and "Traceback" not in proc.stderr
