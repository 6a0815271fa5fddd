"""Attribution benchmarks: omniplug against DuckDB SQL, polars and ChannelAttribution.

Every engine runs in its own worker process (``attribution_worker.py``),
with its input already loaded in its own form, so the timed call is the
attribution work and peak memory is that engine's, above its input.
Grouped per size in the style of orjson's benchmarks (``benchmark.group``,
``extra_info``); a ratio table is printed at the end and written to
``benchmarks/results/attribution.md``.

Asserted (never timings):

* the five rule-based models give the same ``attribution`` table in every
  engine: same rows, every number within 1e-9 relative;
* omniplug's exact Markov credit equals a plain numpy dense solve on the
  same paths within 1e-9 relative, orders 1 to 3, both from touchpoints
  (``omniplug-markov-K``) and from the distinct paths ChannelAttribution
  takes (``omniplug-paths-K``, whose removal effects also equal numpy's
  within 1e-9; its time against ChannelAttribution's is the like-for-like
  ratio);
* ChannelAttribution (a simulation) credits the same channels; how far its
  removal effects are from the exact ones is reported.

Sizes:

* default: the 2 M-touchpoint workload (100 k orders), every engine;
* ``OMNIPLUG_BENCH_ATTRIBUTION=20m`` (or ``2m,20m``): the sizes to run
  (20 M touchpoints / 1 M orders is the issue's size; ~10 minutes);
* ``OMNIPLUG_BENCH_QUICK=1``: 200 k touchpoints only (seconds).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attribution_report
import pytest
from attribution_markov import compare_credit, compare_effects, effects_deviation
from attribution_peers import Job, compare_tables
from attribution_worker import AttributionWorker, workload_paths
from attribution_workloads import DATA_DIR, SIZES, attribution_workload

if TYPE_CHECKING:
    from conftest import BenchRows



@pytest.fixture(scope="module", autouse=True)
def _summary(bench_rows: BenchRows) -> None:
    """Register the renderer of the "attribution" rows with the session summaries of conftest.py
    (found through the fixture's own module: pytest imports conftest under its package name)."""
    sys.modules[type(bench_rows).__module__].SUMMARIES.setdefault("attribution", attribution_report.render)


def _sizes() -> list[str]:
    if os.environ.get("OMNIPLUG_BENCH_QUICK", "") not in ("", "0"):
        return ["200k"]
    sizes = [s.strip() for s in os.environ.get("OMNIPLUG_BENCH_ATTRIBUTION", "2m").split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise ValueError(f"OMNIPLUG_BENCH_ATTRIBUTION={unknown}: use sizes among {sorted(SIZES)}")
    return sizes


def _rounds(size: str, engine: str) -> int:
    if size == "20m":
        return 2 if engine == "omniplug" else 1
    return 3


SIZE_LIST = _sizes()
RULE_RUNS = [(s, e, _rounds(s, e)) for s in SIZE_LIST for e in ("omniplug", "duckdb", "polars")]
MARKOV_RUNS = [(s, k, e) for s in SIZE_LIST for k in (1, 2, 3) for e in ("numpy", "omniplug", "omniplug-paths", "ca")]


@pytest.fixture(scope="session")
def results_dir() -> Iterator[Path]:
    """Where every engine writes its result (kept for the session, removed afterwards)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_DIR, prefix="attribution-out-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def references() -> dict[str, str]:
    """Per size (and Markov order), the result file of the first engine that ran."""
    return {}


def _timed(benchmark: Any, worker: AttributionWorker, job: Job, rounds: int) -> list[dict[str, Any]]:
    measured: list[dict[str, Any]] = []

    def once() -> dict[str, Any]:
        measured.append(worker.run(job))
        return measured[-1]

    benchmark.pedantic(once, rounds=rounds, iterations=1, warmup_rounds=0)
    return measured


def _row(kind: str, size: str, engine: str, measured: list[dict[str, Any]]) -> dict[str, Any]:
    w = attribution_workload(size)
    beyond = [m["beyond_input_mib"] for m in measured if m.get("beyond_input_mib") is not None]
    return {"kind": kind, "size": size, "engine": engine, "touchpoints": w.touchpoints, "orders": w.orders,
            "wall_s": [round(m["wall_s"], 4) for m in measured], "cpu_s": [round(m["cpu_s"], 3) for m in measured],
            "input_mib": round(measured[-1]["input_mib"], 1),
            "peak_mib": round(max(m["peak_mib"] for m in measured), 1),
            "beyond_input_mib": round(max(beyond), 1) if beyond else None, "loadavg": list(os.getloadavg()),
            "counts": measured[-1]["counts"]}


@pytest.mark.timeout(7200)
@pytest.mark.parametrize(("size", "engine", "rounds"), RULE_RUNS, ids=[f"{s}-{e}" for s, e, _ in RULE_RUNS])
def test_rule_based(benchmark: Any, bench_rows: BenchRows, results_dir: Path, references: dict[str, str],
                    size: str, engine: str, rounds: int) -> None:
    """Five rule-based models at once, grouped by the five keys with spend; every engine gives the same table."""
    paths = workload_paths(size)
    job = Job(engine, str(results_dir / f"rules-{size}-{engine}.parquet"))
    with AttributionWorker(engine) as worker:
        worker.load(paths)
        row = _row("rules", size, engine, _timed(benchmark, worker, job, rounds))
    reference = references.setdefault(f"rules-{size}", job.out)
    if reference != job.out:
        check = compare_tables(reference, job.out)
        row.update(equal=check["equal"], max_rel_diff=check["max_rel_diff"], compared_with=Path(reference).stem)
    benchmark.group = f"attribution rules {size} ({row['touchpoints']:,} touchpoints)"
    benchmark.extra_info.update({k: row[k] for k in ("touchpoints", "orders", "input_mib", "peak_mib",
                                                      "beyond_input_mib", "cpu_s", "wall_s")})
    bench_rows.add("attribution", row)
    if reference != job.out:
        assert check["equal"], f"{engine} and {Path(reference).stem} disagree at {size}: {check}"


@pytest.mark.timeout(3600)
@pytest.mark.parametrize("size", SIZE_LIST)
def test_markov_paths(benchmark: Any, bench_rows: BenchRows, results_dir: Path, size: str) -> None:
    """The DuckDB extraction of the distinct paths ChannelAttribution and numpy take, timed for the report."""
    paths = workload_paths(size)
    job = Job("duckdb-paths", str(results_dir / f"paths-{size}.parquet"))
    with AttributionWorker("duckdb-paths") as worker:
        worker.load(paths)
        row = _row("markov", size, "duckdb-paths", _timed(benchmark, worker, job, 1))
    benchmark.group = f"attribution markov {size}"
    bench_rows.add("attribution", row)
    import numpy as np
    import pyarrow.parquet as pq

    # Same paths and counts as the cached file the other engines read; revenue
    # sums come out of a parallel aggregation, equal up to rounding.
    got, cached = pq.read_table(job.out), pq.read_table(paths["paths"])
    counts = ["path", "total_conversions", "total_null"]
    assert got.select(counts).equals(cached.select(counts)), "path extraction is not deterministic"
    np.testing.assert_allclose(got.column("total_conversion_value"), cached.column("total_conversion_value"),
                               rtol=1e-9)


@pytest.mark.timeout(3600)
@pytest.mark.parametrize(("size", "order", "family"), MARKOV_RUNS, ids=[f"{s}-order{k}-{e}" for s, k, e in MARKOV_RUNS])
def test_markov(benchmark: Any, bench_rows: BenchRows, results_dir: Path, references: dict[str, Any],
                size: str, order: int, family: str) -> None:
    """Exact Markov of order 1-3: omniplug equals numpy within 1e-9; ChannelAttribution is reported."""
    paths = workload_paths(size)
    engine = f"omniplug-paths-{order}" if family == "omniplug-paths" else f"{family}-markov-{order}"
    job = Job(engine, str(results_dir / f"markov-{size}-{engine}.parquet"))
    with AttributionWorker(engine) as worker:
        worker.load(paths)
        row = _row("markov", size, engine, _timed(benchmark, worker, job, 3 if size != "20m" else 1))
    exact_key = f"markov-{size}-{order}-exact"
    if family == "numpy":
        references[exact_key] = {"out": job.out, "effects": row["counts"]["removal_effects"]}
    exact = references.get(exact_key)
    if exact is None:  # run the reference solve in-process when this engine came first (e.g. -k selection)
        import pyarrow.parquet as pq
        from attribution_markov import credit_from_paths, exact_markov

        table = pq.read_table(paths["paths"])
        effects = exact_markov(table, order)
        out = str(results_dir / f"markov-{size}-numpy-markov-{order}-inline.parquet")
        pq.write_table(credit_from_paths(table, effects), out)
        exact = references[exact_key] = {"out": out, "effects": effects}
    check = compare_credit(exact["out"], job.out)
    effects_check = None
    if family in ("omniplug", "omniplug-paths"):
        row["vs_numpy"] = check
        references[f"markov-{size}-{order}-{family}-wall"] = min(row["wall_s"])
    if family == "omniplug-paths":
        effects_check = row["effects_vs_numpy"] = compare_effects(exact["effects"], row["counts"]["removal_effects"])
    elif family == "ca":
        row["effects_deviation"] = effects_deviation(exact["effects"], row["counts"]["removal_effects"])
        # The like-for-like ratio: both start from the same distinct paths.
        ours = references.get(f"markov-{size}-{order}-omniplug-paths-wall")
        if ours:
            row["ca_over_omniplug_paths"] = min(row["wall_s"]) / ours
            print(f"\nmarkov {size} order {order}: ChannelAttribution {min(row['wall_s']):.3f} s, "
                  f"omniplug-paths {ours:.3f} s: {row['ca_over_omniplug_paths']:.1f}x")
    benchmark.group = f"attribution markov {size} order {order}"
    benchmark.extra_info.update({k: row[k] for k in ("input_mib", "peak_mib", "beyond_input_mib", "cpu_s", "wall_s")})
    bench_rows.add("attribution", row)
    assert check["same_channels"], check
    if family in ("omniplug", "omniplug-paths"):
        assert check["max_rel_diff"] <= 1e-9, f"{engine}: exact Markov order {order} differs from numpy: {check}"
    if effects_check is not None:
        assert effects_check["same_channels"], effects_check
        assert effects_check["max_abs_diff"] <= 1e-9, f"{engine}: removal effects differ from numpy: {effects_check}"
