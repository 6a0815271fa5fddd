"""Identity stitching benchmarks: omniplug against scipy, igraph and DuckDB.

Every engine runs end to end (Parquet in, ``persons`` Parquet out) on the
same generated file, in its own worker process (see ``stitch_peers.py``),
so peak memory is per engine and the timed call excludes interpreter start
and imports. Grouped per size in the style of orjson's benchmarks
(``benchmark.group``, ``extra_info``); a ratio table is printed at the end.

Engines computing plain connected components must produce identical
partitions (asserted); timings are reported, never asserted.

Sizes (about 10 minutes on 2 cores, more on a loaded machine):

* default: 1 M pairs for every engine, 10 M for omniplug (in memory and
  ``omniplug-stream``, whose persons must equal ``omniplug-guarded``'s),
  scipy and igraph; the daily incremental run at 1 M and 10 M;
* ``OMNIPLUG_BENCH_QUICK=1``: 100 k pairs only (a smoke run in seconds);
* ``OMNIPLUG_BENCH_SLOW=1``: adds DuckDB (both algorithms) at 10 M
  (label propagation there takes many minutes);
* ``OMNIPLUG_BENCH_HUGE=1``: adds 100 M pairs for omniplug (generation
  streams row groups; the in-memory engines need ~30 GB of memory, more
  than this 24 GiB machine has; ``omniplug-stream`` peaks near 18.5 GB);
  ``OMNIPLUG_BENCH_HUGE=50m`` (or ``30m``) runs that size instead.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from stitch_engines import PEERS, Job
from stitch_peers import Worker
from workloads import DATA_DIR, SIZES, workload

if TYPE_CHECKING:
    from conftest import BenchRows

_GUARDED_MAX_COMPONENT = 200  # the default max_component_size


def _env(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _plan() -> tuple[list[tuple[str, str, int]], list[tuple[str, bool, int, int]]]:
    """(size, engine, rounds) of the engine runs; (size, guardrails, incremental rounds, rebuild rounds)
    of the daily runs."""
    if _env("OMNIPLUG_BENCH_QUICK"):
        engines = ["omniplug", "omniplug-guarded", "omniplug-stream", "scipy", "igraph", "duckdb-star", "duckdb-lp"]
        return [("100k", e, 3) for e in engines], [("100k", False, 3, 2), ("100k", True, 3, 2)]
    runs = [("1m", "omniplug", 3), ("1m", "omniplug-guarded", 3), ("1m", "omniplug-stream", 3), ("1m", "scipy", 3),
            ("1m", "igraph", 3), ("1m", "duckdb-star", 2), ("1m", "duckdb-lp", 1),
            ("10m", "omniplug", 2), ("10m", "omniplug-guarded", 2), ("10m", "omniplug-stream", 2),
            ("10m", "scipy", 2), ("10m", "igraph", 1)]
    if _env("OMNIPLUG_BENCH_SLOW"):
        runs += [("10m", "duckdb-star", 1), ("10m", "duckdb-lp", 1)]
    huge = os.environ.get("OMNIPLUG_BENCH_HUGE", "")
    if huge not in ("", "0"):
        size = "100m" if huge == "1" else huge
        if size not in SIZES:
            raise ValueError(f"OMNIPLUG_BENCH_HUGE={huge!r}: use 1 (100m) or one of {sorted(SIZES)}")
        runs += [(size, "omniplug", 1), (size, "omniplug-guarded", 1), (size, "omniplug-stream", 1)]
    return runs, [("1m", False, 3, 2), ("1m", True, 3, 2), ("10m", False, 3, 1), ("10m", True, 3, 1)]


RUNS, DAILY = _plan()


@pytest.fixture(scope="session")
def references() -> dict[str, dict[str, Any]]:
    """Per size, the partition digest of the first plain-components engine that ran."""
    return {}


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder for the outputs of one test, removed afterwards (they are big)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="out-") as tmp:
        yield Path(tmp)


def _timed(benchmark: Any, worker: Worker, job: Job, rounds: int) -> list[dict[str, Any]]:
    """Run ``job`` ``rounds`` times under pytest-benchmark; the worker's own measurements."""
    measured: list[dict[str, Any]] = []

    def once() -> dict[str, Any]:
        measured.append(worker.run(job))
        return measured[-1]

    benchmark.pedantic(once, rounds=rounds, iterations=1, warmup_rounds=0)
    return measured


def _row(kind: str, size: str, engine: str, measured: list[dict[str, Any]], worker: Worker,
         guardrails: bool | None = None) -> dict[str, Any]:
    if guardrails is None:
        guardrails = engine != "omniplug" and engine.startswith("omniplug")
    return {"kind": kind, "size": size, "engine": engine, "pairs": workload(size).pairs, "guardrails": guardrails,
            "wall_s": [round(m["wall_s"], 3) for m in measured], "cpu_s": [round(m["cpu_s"], 3) for m in measured],
            "peak_rss_mib": round(measured[-1]["peak_rss_mib"], 1),
            "baseline_rss_mib": round(worker.baseline_rss_mib, 1), "loadavg": list(os.getloadavg()),
            "counts": measured[-1]["counts"]}


@pytest.mark.timeout(7200)
@pytest.mark.parametrize(("size", "engine", "rounds"), RUNS, ids=[f"{s}-{e}" for s, e, _ in RUNS])
def test_stitch(benchmark: Any, bench_rows: BenchRows, references: dict[str, dict[str, Any]], scratch: Path,
                size: str, engine: str, rounds: int) -> None:
    """One engine, one size, end to end; plain-components partitions must agree."""
    w = workload(size)
    job = Job(inputs=[str(w.links)], out=str(scratch / "persons.parquet"))
    with Worker(engine) as worker:
        measured = _timed(benchmark, worker, job, rounds)
        row = _row("engine", size, engine, measured, worker)
        check = worker.verify(job.out)
    row.update(identifiers=check["identifiers"], persons=check["persons"], largest=check["largest"],
               digest=check["digest"])
    benchmark.group = f"stitch {size} ({w.pairs:,} pairs)"
    benchmark.extra_info.update({k: row[k] for k in ("pairs", "identifiers", "persons", "largest", "peak_rss_mib",
                                                      "baseline_rss_mib", "cpu_s", "wall_s", "guardrails")})
    if engine in PEERS:
        reference = references.setdefault(size, {"engine": engine, **check})
        row["partition_matches"] = check["digest"] == reference["digest"]
    bench_rows.add("stitch", row)
    if engine in PEERS:
        assert check == {k: reference[k] for k in check}, f"{engine} and {reference['engine']} disagree at {size}"
    else:
        # The streamed path must give the in-memory guarded run's persons exactly.
        guarded = references.setdefault(f"{size}-guarded", {"engine": engine, **check})
        assert check == {k: guarded[k] for k in check}, f"{engine} and {guarded['engine']} disagree at {size}"
        # The guardrails must actually act on the planted hubs, junk and caps.
        assert check["largest"] <= _GUARDED_MAX_COMPONENT
        cuts = row["counts"]["cuts_by_rule"]
        assert cuts.get("hub", 0) >= 2 and cuts.get("blocked", 0) >= 1, cuts
    assert check["identifiers"] == row["counts"]["identifiers"]


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.mark.timeout(3600)
@pytest.mark.parametrize(("size", "guardrails", "rounds", "rebuild_rounds"), DAILY,
                         ids=[f"{d[0]}-guardrails-{'on' if d[1] else 'off'}" for d in DAILY])
def test_stitch_daily(benchmark: Any, bench_rows: BenchRows, scratch: Path, size: str, guardrails: bool,
                      rounds: int, rebuild_rounds: int) -> None:
    """Yesterday's persons + 1 % new pairs, against rebuilding from the whole history.

    Both must give the same partition, every person today's pairs do not
    touch keeps its id, and two runs on one input write the same bytes.
    """
    w = workload(size)
    # With guardrails, a daily run equals the rebuild when caps are joined in
    # arrival order and yesterday's hubs are carried (omniplug.stitch docs).
    order = "arrival" if guardrails else None
    day1 = Job(inputs=[str(w.links)], out=str(scratch / "day1.parquet"), cap_order=order,
               cuts_out=str(scratch / "day1-cuts.parquet"))
    with Worker("omniplug-guarded" if guardrails else "omniplug") as worker:
        next_id = worker.run(day1)["counts"]["next_person_id"]
    full = Job(inputs=[str(w.links), str(w.increment)], out=str(scratch / "rebuild.parquet"),
               previous=day1.out, next_person_id=next_id, guardrails=guardrails, cap_order=order)
    with Worker("omniplug-rebuild") as worker:
        rebuild_row = _row("daily", size, "omniplug-rebuild", [worker.run(full) for _ in range(rebuild_rounds)],
                           worker, guardrails)
    inc = Job(inputs=[str(w.increment)], out=str(scratch / "incremental.parquet"), previous=day1.out,
              next_person_id=next_id, guardrails=guardrails, cap_order=order, previous_cuts=day1.cuts_out)
    again = Job(**{**asdict(inc), "out": str(scratch / "incremental-again.parquet"), "counts": {}})
    with Worker("omniplug-incremental") as worker:
        inc_row = _row("daily", size, "omniplug-incremental", _timed(benchmark, worker, inc, rounds), worker,
                       guardrails)
        worker.run(again)
        inc_check, full_check = worker.verify(inc.out), worker.verify(full.out)
        kept = worker.untouched(day1.out, inc.out, [str(w.increment)])
        diff = worker.diff(inc.out, full.out) if inc_check["digest"] != full_check["digest"] else None
    row = {"kind": "daily", "size": size, "pairs": w.pairs, "increment_pairs": w.increment_pairs,
           "guardrails": guardrails, "incremental": inc_row, "rebuild": rebuild_row, "loadavg": inc_row["loadavg"],
           "same_partition": diff is None, "partition_diff": diff,
           "same_table": _sha256(inc.out) == _sha256(full.out),
           "byte_identical": _sha256(inc.out) == _sha256(again.out),
           "untouched_kept": f"all {kept['untouched_persons']:,}" if not kept["changed_identifiers"]
                             else f"NO: {kept['changed_identifiers']:,} identifiers changed",
           "untouched": kept}
    benchmark.group = f"stitch daily {size} (+{w.increment_pairs:,} pairs)"
    benchmark.extra_info.update(increment_pairs=w.increment_pairs, guardrails=guardrails,
                                identifiers=inc_check["identifiers"], persons=inc_check["persons"],
                                peak_rss_mib=inc_row["peak_rss_mib"], rebuild_wall_s=rebuild_row["wall_s"],
                                rebuild_cpu_s=rebuild_row["cpu_s"],
                                **{k: row[k] for k in ("same_partition", "same_table", "byte_identical")})
    bench_rows.add("stitch", row)
    assert kept["changed_identifiers"] == 0, kept
    assert row["byte_identical"], "two runs on the same input wrote different bytes"
    assert diff is None, f"the incremental run and the full rebuild give different persons: {diff}"
