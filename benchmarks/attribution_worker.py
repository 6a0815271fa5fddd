"""Run one attribution engine in its own process: time, CPU, and memory beyond the input.

One process per engine keeps memory figures apart. The worker loads the
input in the engine's own form first (pyarrow tables, a DuckDB in-memory
database, polars frames, or the distinct paths), notes its resident memory
("the input"), then for every timed run resets the kernel's peak-RSS mark
(``/proc/self/clear_refs``) so the peak it reports afterwards is that run's
alone. "Beyond the input" = that peak minus the memory after loading.

One-shot, printing a JSON line per round::

    python attribution_worker.py duckdb 2m --rounds 2
    python attribution_worker.py omniplug-markov-3 20m

As a worker for the pytest benchmarks (:class:`AttributionWorker`), it
answers JSON requests on stdin, one per line:

* ``{"cmd": "load", "paths": {...}}`` loads the input; answers ``rss_mib``;
* ``{"cmd": "run", "job": {...}}`` runs the engine; answers ``wall_s``,
  ``cpu_s`` (all threads), ``peak_mib``, ``beyond_input_mib`` and the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from attribution_markov import MARKOV_ENGINES, load_markov_input
from attribution_peers import RULE_ENGINES, Job, load_rule_input
from stitch_peers import rss_mib

__all__ = ["AttributionWorker", "ENGINES", "peak_since_reset_mib", "workload_paths"]

_HERE = Path(__file__).resolve().parent
#: Every engine the worker can run.
ENGINES = (*RULE_ENGINES, *MARKOV_ENGINES)


def _reset_peak() -> bool:
    """Reset this process's peak-RSS mark (Linux >= 4.0); ``False`` where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_since_reset_mib() -> float:
    """Peak resident memory since the last reset (``VmHWM``), in MiB; 0 without /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def workload_paths(size: str) -> dict[str, str]:
    """Input files of workload ``size``: the three tables and the distinct paths (built on first use)."""
    from attribution_markov import build_paths, load_path_tables
    from attribution_workloads import attribution_workload

    w = attribution_workload(size)
    paths = {t: str(w.path(t)) for t in ("touchpoints", "orders", "spend")}
    target = w.folder / "paths.parquet"
    if not target.exists():
        tmp = w.folder / "paths.parquet.tmp"
        db = load_path_tables(paths["touchpoints"], paths["orders"])
        try:
            counts = build_paths(db, str(tmp))
        finally:
            db.close()
        tmp.replace(target)
        (w.folder / "paths.json").write_text(json.dumps(counts) + "\n")
    paths["paths"] = str(target)
    return paths


class _State:
    """What the serving process holds between requests."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.data: Any = None
        self.loaded_mib = 0.0


def _release_free_memory() -> None:
    """Hand memory freed while loading back to the system, so "after loading" is the input itself.

    Parquet decoding leaves freed buffers in the allocators (Arrow's
    mimalloc/jemalloc pool, glibc's arenas); counted as "input" they would
    hide that much of a run's own peak.
    """
    import ctypes
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


def _load(state: _State, req: dict[str, Any]) -> dict[str, Any]:
    paths = req["paths"]
    rule = state.engine in RULE_ENGINES
    inputs = {k: paths[k] for k in ("touchpoints", "orders", "spend")} if rule else paths
    state.data = load_rule_input(state.engine, inputs) if rule else load_markov_input(state.engine, inputs)
    _release_free_memory()
    state.loaded_mib = rss_mib()
    return {"rss_mib": state.loaded_mib}


def _run(state: _State, req: dict[str, Any]) -> dict[str, Any]:
    if state.data is None:
        return {"error": "load the input first"}
    job = Job(**req["job"])
    engines = {**RULE_ENGINES, **MARKOV_ENGINES}
    _release_free_memory()  # what the previous round freed is not this round's
    start_mib = rss_mib()
    exact_peak = _reset_peak()
    wall, cpu = time.perf_counter(), _cpu_seconds()
    engines[job.engine](state.data, job)
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    peak = peak_since_reset_mib()
    return {"engine": job.engine, "wall_s": wall, "cpu_s": cpu, "peak_mib": peak,
            "beyond_input_mib": max(0.0, peak - state.loaded_mib) if exact_peak else None,
            "input_mib": state.loaded_mib, "start_mib": start_mib, "counts": job.counts}


def _preload(engine: str) -> None:
    """Import what ``engine`` uses before anything is timed."""
    names = {"omniplug": ["omniplug"], "duckdb": ["duckdb", "attribution_markov"], "polars": ["polars"],
             "ca": ["ChannelAttribution"], "numpy": []}
    for prefix, modules in names.items():
        if engine.startswith(prefix):
            for name in modules:
                if name == "ChannelAttribution":
                    import contextlib
                    import io

                    with contextlib.redirect_stdout(io.StringIO()):  # an import-time banner
                        __import__(name)
                else:
                    __import__(name)


def serve(engine: str, requests: IO[str], replies: IO[str]) -> None:
    """Answer the JSON requests of :class:`AttributionWorker` until stdin closes."""
    _preload(engine)
    state = _State(engine)
    replies.write(json.dumps({"ready": True, "rss_mib": rss_mib()}) + "\n")
    replies.flush()
    commands = {"load": _load, "run": _run}
    for line in requests:
        req = json.loads(line)
        command = commands.get(req.get("cmd"))
        try:
            answer = command(state, req) if command else {"error": f"unknown command {req.get('cmd')!r}"}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(answer, default=str) + "\n")
        replies.flush()


class AttributionWorker:
    """A child process running one engine (see the module docstring).

    Args:
        engine: one of :data:`ENGINES`.
        env: extra environment.
    """

    def __init__(self, engine: str, env: dict[str, str] | None = None) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; engines are {ENGINES}")
        self.engine = engine
        self._proc = subprocess.Popen(
            [sys.executable, str(_HERE / "attribution_worker.py"), "--serve", engine],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=_HERE, env={**os.environ, **(env or {})})
        self.baseline_rss_mib = float(self._read()["rss_mib"])
        self.input_mib = 0.0

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.engine} worker exited with {self._proc.wait()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.engine}: {answer['error']}")
        return answer

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def load(self, paths: dict[str, str]) -> float:
        """Load the input files; the resident memory afterwards in MiB."""
        self.input_mib = float(self._ask({"cmd": "load", "paths": paths})["rss_mib"])
        return self.input_mib

    def run(self, job: Job) -> dict[str, Any]:
        """Run ``job`` in the worker; its measurements and counts."""
        return self._ask({"cmd": "run", "job": asdict(job)})

    def close(self) -> None:
        """End the worker (closing its stdin ends its loop)."""
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> AttributionWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    """Command line: one engine on one workload, a JSON line per round."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("size", nargs="?", help="workload: 200k, 2m, 20m")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--serve", action="store_true", help="worker mode (used by the benchmarks)")
    args = parser.parse_args()
    if args.serve:
        # Replies own the real stdout; anything an engine prints goes to stderr.
        replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
        sys.stdout = sys.stderr
        serve(args.engine, sys.stdin, replies)
        return
    if not args.size:
        parser.error("size is required")
    paths = workload_paths(args.size)
    with AttributionWorker(args.engine) as worker, tempfile.TemporaryDirectory() as tmp:
        worker.load(paths)
        for _ in range(args.rounds):
            print(json.dumps({"size": args.size, **worker.run(Job(args.engine, str(Path(tmp) / "result.parquet")))},
                             default=str), flush=True)


if __name__ == "__main__":
    main()
