"""The command line, end to end: real processes, real HTTP against the example simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from omniplug_example.simulator import APP_KEY, APP_SECRET, ExampleSimulator

from omniplug.testing import Clock, committed_parts

OMNIPLUG = [sys.executable, "-m", "omniplug.cli"]


def run(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*OMNIPLUG, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture
def simulator() -> Iterator[ExampleSimulator]:
    # Real time: the CLI runs in another process, stamping requests with the real clock.
    with ExampleSimulator(seed=3, clock=Clock()) as sim:
        yield sim


def write_pipeline(path: Path, sim: ExampleSimulator, **overrides: str) -> Path:
    values = {"base_url": sim.base_url, "app_key": APP_KEY, "app_secret": "${EXAMPLE_SECRET}",
              "session": sim.initial_session, "refresh_token": sim.initial_refresh, **overrides}
    body = "\n".join(f'{k} = "{v}"' for k, v in values.items() if v is not None)
    path.write_text(f'output_dir = "out"\n\n[platforms.example]\n{body}\n', encoding="utf-8")
    return path


SECRET_ENV = {"EXAMPLE_SECRET": APP_SECRET}


def test_help_teaches_the_commands() -> None:
    out = run("--help").stdout
    for command in ("plugins", "fetch", "import", "simulate", "demo"):
        assert command in out
    assert "--since" in run("fetch", "--help").stdout


def test_plugins_lists_the_installed_example_platform() -> None:
    out = run("plugins").stdout
    assert "example" in out and "orders" in out and "identity_links" in out
    assert '"name": "example"' in run("plugins", "--json").stdout


def test_fetch_writes_canonical_tables_and_resumes(simulator: ExampleSimulator, tmp_path: Path) -> None:
    config = write_pipeline(tmp_path / "pipeline.toml", simulator)
    out = tmp_path / "out"
    first = run("fetch", "example", "orders", "--config", str(config), "--since", "2026-10-01",
                "--until", "2026-11-01", "--out", str(out), env=SECRET_ENV)
    assert "orders" in first.stdout
    orders = pq.read_table(out / "orders.parquet")
    assert orders.num_rows == len(simulator.world.orders)
    assert {f"{o['tid']}" for o in simulator.world.orders} == set(orders.column("order_id").to_pylist())
    again = run("fetch", "example", "orders", "--config", str(config), "--out", str(out), env=SECRET_ENV)
    assert "nothing new" in again.stdout
    assert pq.read_table(out / "orders.parquet").num_rows == orders.num_rows


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fetch", "kuaishou", "orders"], "no plugin provides platform 'kuaishou'"),
        (["fetch", "example", "orders"], "app_secret"),  # the environment variable is missing
    ],
)
def test_errors_are_one_line_without_traceback(simulator: ExampleSimulator, tmp_path: Path, args: list[str],
                                               message: str) -> None:
    config = write_pipeline(tmp_path / "pipeline.toml", simulator)
    env = {k: v for k, v in os.environ.items() if k != "EXAMPLE_SECRET"}
    proc = subprocess.run([*OMNIPLUG, *args, "--config", str(config), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("omniplug: error:") and message in lines[0], proc.stderr


def test_wrong_secret_fails_fast_naming_the_signature(simulator: ExampleSimulator, tmp_path: Path) -> None:
    config = write_pipeline(tmp_path / "pipeline.toml", simulator)
    proc = run("fetch", "example", "orders", "--config", str(config), "--out", str(tmp_path / "o"),
               env={"EXAMPLE_SECRET": "not-the-secret"}, check=False)
    assert proc.returncode == 2
    assert "signature" in proc.stderr.lower() and "example" in proc.stderr
    assert len(simulator.requests) == 1  # no retry storm
    assert "not-the-secret" not in proc.stderr


def test_unwritable_output_folder_is_a_clear_error(simulator: ExampleSimulator, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    config = write_pipeline(tmp_path / "pipeline.toml", simulator)
    proc = run("fetch", "example", "orders", "--config", str(config), "--out", str(blocker / "sub"),
               env=SECRET_ENV, check=False)
    assert proc.returncode == 2 and "not writable" in proc.stderr


def test_simulate_serves_until_stopped(tmp_path: Path) -> None:
    proc = subprocess.Popen([*OMNIPLUG, "simulate", "example", "--port", "0", "--seed", "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ")[1].split()[0]
        import httpx

        assert httpx.get(f"{url}/router/rest").json()["error_response"]["code"] == 29  # no app key
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_kill_9_between_pages_then_resume_gives_the_same_tables(simulator: ExampleSimulator, tmp_path: Path) -> None:
    config = write_pipeline(tmp_path / "pipeline.toml", simulator)
    window = ["--since", "2026-10-01", "--until", "2026-11-01"]
    reference = tmp_path / "reference"
    run("fetch", "example", "orders", "--config", str(config), *window, "--out", str(reference), env=SECRET_ENV)

    killed = tmp_path / "killed"
    simulator.faults.inject("slow", delay=0.4, times=50, path="/router/rest")
    proc = subprocess.Popen([*OMNIPLUG, "fetch", "example", "orders", "--config", str(config), *window,
                             "--out", str(killed)], env={**os.environ, **SECRET_ENV},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while committed_parts(killed) == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    parts_at_kill = committed_parts(killed)
    assert 0 < parts_at_kill, "the run should have committed at least one page before the kill"
    simulator.faults.clear()
    # Resume: no --since, so the saved cursor (mid-window) is used.
    run("fetch", "example", "orders", "--config", str(config), "--out", str(killed), env=SECRET_ENV)
    for table in ("orders", "order_items", "identity_links"):
        want = pq.read_table(reference / f"{table}.parquet")
        got = pq.read_table(killed / f"{table}.parquet")
        assert got.equals(want), table


def test_unreachable_endpoint_names_the_host_and_what_to_check(simulator: ExampleSimulator, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_pipeline(tmp_path / "pipeline.toml", simulator, base_url=f"http://127.0.0.1:{port}",
                            max_attempts="2")
    proc = run("run", str(config), env=SECRET_ENV, check=False)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "cannot connect to 127.0.0.1" in proc.stderr and "base_url" in proc.stderr
    assert proc.stderr.count("example:") == 1
